using System.Diagnostics;
using System.Globalization;
using System.Net;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Execution;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Demo;

public sealed partial class DemoCommand
{
    private const string EjabberdLibrary = "/usr/lib/x86_64-linux-gnu/ejabberd-23.01";

    /// <summary>
    /// <c>demo --nodes ejabberd</c>: a real three-node ejabberd 23.01 cluster on 127.0.0.41-43 behind the
    /// embedded proxy, XMPP clients and HTTP requests through it, and a rolling upgrade that installs
    /// release 24.0 on each node and reads the version back.
    /// </summary>
    private async Task<int> RunEjabberdAsync()
    {
        if (!Directory.Exists(EjabberdLibrary))
        {
            await io
                .Error.WriteLineAsync(
                    "demo --nodes ejabberd: ejabberd 23.01 is not installed here (apt-get install ejabberd); "
                        + "`rollingupgrade demo` runs without it"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var watch = Stopwatch.StartNew();
        var o = io.Output;
        await using var cluster = new EjabberdCluster(
            "demo",
            41,
            3,
            "demo-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))
        );
        await using var green = new EjabberdCluster(
            "next",
            44,
            3,
            "next-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)),
            version: "25.0"
        );
        await o.WriteLineAsync(
                $"RollingUpgrade demo on ejabberd: three nodes on 127.0.0.41-43, a new cluster prepared on "
                    + $"127.0.0.44-46 ({cluster.Folder})"
            )
            .ConfigureAwait(false);
        await using (Preparing.Start(o, "starting the ejabberd cluster demo1..3 with 12 accounts"))
        {
            await cluster.StartAsync(users: 12).ConfigureAwait(false);
        }

        // The new cluster is formed once with the same users, then stopped; the cutover provisions and starts it.
        await using (Preparing.Start(o, "forming the new cluster next1..3, then stopping it for the cutover"))
        {
            await green.StartAsync(users: 12).ConfigureAwait(false);
            for (var i = 3; i >= 1; i--)
            {
                await green.StopNodeAsync(i).ConfigureAwait(false);
            }
        }

        cluster.PrepareRelease("24.0");

        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "demo",
                    Enumerable
                        .Range(1, 3)
                        .Select(i => new DestinationOptions($"demo{i}", cluster.Address(i), 5280, 5222, 100))
                        .Concat(
                            Enumerable
                                .Range(1, 3)
                                .Select(i => new DestinationOptions($"next{i}", green.Address(i), 5280, 5222, 0))
                        )
                        .ToList(),
                    TimeSpan.FromMilliseconds(500)
                ),
            ],
            [
                new ListenerOptions(
                    ListenerKind.Http,
                    new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()),
                    "demo"
                ),
                new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "demo"),
            ]
        );
        await using var proxy = EmbeddedProxy.Build(options);
        await proxy.StartAsync().ConfigureAwait(false);
        await using var load = new LoadDriver();
        load.Start(
            "127.0.0.1",
            options.Listeners[1].Listen.Port,
            cluster.Users.Select(u => (u, $"pw-{u}")).ToList(),
            "localhost",
            options.Listeners[0].Listen.Port,
            "/api/status",
            20
        );
        await using (Preparing.Start(o, $"logging {cluster.Users.Count} XMPP clients in through the proxy"))
        {
            await load.WaitAllLoggedInAsync(cluster.Users.Count, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        var timeline = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(proxy.Registry, timeline, sampling.Token);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync(
                "== rolling upgrade 23.01 -> 24.0 of demo1..3, XMPP clients connected through the proxy =="
            )
            .ConfigureAwait(false);
        var upgradeStarted = DateTimeOffset.UtcNow;
        var outcome = await RunPlanAsync(WriteEjabberdPlan(cluster, options, null), cluster.Folder)
            .ConfigureAwait(false);
        if (outcome.ExitCode == 0)
        {
            await o.WriteLineAsync().ConfigureAwait(false);
            await o.WriteLineAsync("== parallel cutover to the new cluster next1..3 on 25.0 ==").ConfigureAwait(false);
            outcome = await RunPlanAsync(WriteEjabberdPlan(cluster, options, green), cluster.Folder)
                .ConfigureAwait(false);
        }

        await Task.Delay(2000).ConfigureAwait(false);
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        await load.StopAsync().ConfigureAwait(false);
        await proxy.StopAsync().ConfigureAwait(false);

        // Only what happened from the first step of the upgrade counts: preparing the clusters is not the upgrade.
        var failed = new[]
        {
            LoadOperations.Connect,
            LoadOperations.Login,
            LoadOperations.Ping,
            LoadOperations.Http,
        }.Sum(operation => load.Failed(operation, upgradeStarted));
        var exitCode =
            outcome.ExitCode != 0 ? outcome.ExitCode
            : failed > 0 ? ExitCodes.HaltedOrRolledBack
            : ExitCodes.Done;
        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync($"== summary ({watch.Elapsed.TotalSeconds:0}s, exit code {exitCode}) ==")
            .ConfigureAwait(false);
        await WriteTimelineAsync(timeline).ConfigureAwait(false);
        await o.WriteLineAsync("client operations from the first step of the upgrade:").ConfigureAwait(false);
        await o.WriteAsync(load.Summary(upgradeStarted)).ConfigureAwait(false);
        await ReportsAsync().ConfigureAwait(false);
        return exitCode;
    }

    private static string WriteEjabberdPlan(EjabberdCluster cluster, ProxyOptions options, EjabberdCluster? green)
    {
        var nodes = cluster.PlanNodes("nodes", "proxy");
        var strategy = green is null
            ? "[upgrade]\ntarget_version = \"24.0\"\ninstall = [\"{var.ejnode}\", \"install\", \"{var.index}\", "
                + "\"{version}\"]\nbackup_config = true\n\n[strategy]\nkind = \"rolling\"\ncapacity_nodes = 2\n"
            : "[upgrade]\ntarget_version = \"25.0\"\nbackup_config = false\n\n[strategy]\nkind = "
                + "\"parallel\"\nprovision = [[\"test\", \"-f\", \"{config_path}\"]]\nstart = [\"{var.ejnode}\", "
                + "\"start\", \"{var.index}\"]\ntraffic_steps = [25, 50, 100]\nstep_pause = \"1s\"\n\n"
                + green.PlanNodes("strategy.green_nodes", "proxy");
        var text = $$"""
            [cluster]
            name = "{{(green is null ? "demo-ejabberd" : "demo-ejabberd-cutover")}}"

            {{nodes}}
            [access]
            kind = "local"
            command_timeout = "60s"

            {{EjabberdCluster.ProductTable}}

            [[load_balancers]]
            name = "proxy"
            kind = "yarp"
            admin_url = "http://{{options.Admin.Listen}}"
            cluster = "demo"

            [[gates]]
            name = "c2s"
            kind = "tcp"
            address = "{host}:5222"

            {{strategy}}
            [strategy.drain]
            timeout = "3s"
            on_timeout = "evict"
            eviction_rate = 5
            poll_interval = "500ms"
            zero_readings = 2
            """;
        var path = Path.Combine(cluster.Folder, green is null ? "rolling.toml" : "cutover.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private async Task WriteTimelineAsync(Dictionary<string, List<int>> timeline)
    {
        await io
            .Output.WriteLineAsync("live sessions per node through the proxy, one mark per second:")
            .ConfigureAwait(false);
        var peak = Math.Max(1, timeline.Values.SelectMany(v => v).DefaultIfEmpty(0).Max());
        const string marks = " .:-=+*#%@";
        foreach (var (node, samples) in timeline.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var line = new string(
                samples
                    .Select(s =>
                        s == 0 ? '_' : marks[Math.Clamp(1 + (s * (marks.Length - 2) / peak), 1, marks.Length - 1)]
                    )
                    .ToArray()
            );
            await io
                .Output.WriteLineAsync(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"  {node, -8} {line}  (max {samples.DefaultIfEmpty(0).Max()})"
                    )
                )
                .ConfigureAwait(false);
        }
    }
}
