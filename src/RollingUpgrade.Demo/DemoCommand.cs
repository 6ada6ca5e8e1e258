using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Plans;

namespace RollingUpgrade.Demo;

/// <summary>
/// <c>rollingupgrade demo</c>: on a bare machine, the embedded proxy in front of three local demo
/// nodes under client load; a rolling upgrade 1.0 -> 2.0, then a parallel cutover to a new
/// cluster on 3.0; a live progress view and a summary. Every process it starts is stopped by id.
/// </summary>
public sealed partial class DemoCommand(DemoHost io)
{
    private static readonly string[] Blue = ["blue-1", "blue-2", "blue-3"];
    private static readonly string[] Green = ["green-1", "green-2", "green-3"];

    public async Task<int> RunAsync(string nodes)
    {
        if (nodes == "ejabberd")
        {
            return await RunEjabberdAsync().ConfigureAwait(false);
        }

        if (nodes != "demo")
        {
            await io
                .Error.WriteLineAsync(
                    $"demo --nodes {nodes}: choose \"demo\" (built-in demo nodes) or \"ejabberd\" (a local ejabberd "
                        + $"cluster)"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var watch = Stopwatch.StartNew();
        var folder = Directory.CreateTempSubdirectory("rollingupgrade-demo-").FullName;
        var all = Blue.Concat(Green).ToArray();
        var addresses = all.Select((_, i) => $"127.0.0.{41 + i}").ToArray();
        var httpPort = FreePortOnAll(addresses);
        var tcpPort = FreePortOnAll(addresses);
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, FreePort()), null),
            [
                new ClusterOptions(
                    "demo",
                    all.Select(
                            (n, i) =>
                                new DestinationOptions(n, addresses[i], httpPort, tcpPort, Green.Contains(n) ? 0 : 100)
                        )
                        .ToList(),
                    TimeSpan.FromMilliseconds(250)
                ),
            ],
            [
                new ListenerOptions(ListenerKind.Http, new IPEndPoint(IPAddress.Loopback, FreePort()), "demo"),
                new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, FreePort()), "demo"),
            ]
        );
        var script = WriteNodeScript(folder);
        for (var i = 0; i < all.Length; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, all[i])).FullName;
            File.WriteAllText(Path.Combine(dir, "name"), all[i]);
            File.WriteAllText(Path.Combine(dir, "host"), addresses[i]);
            File.WriteAllText(Path.Combine(dir, "http"), httpPort.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "tcp"), tcpPort.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "version"), "1.0");
        }

        var o = io.Output;
        await o.WriteLineAsync(
                $"RollingUpgrade demo: embedded proxy (HTTP 127.0.0.1:{options.Listeners[0].Listen.Port}, TCP "
                    + $"127.0.0.1:{options.Listeners[1].Listen.Port}, admin {options.Admin.Listen}), nodes on "
                    + $"{addresses[0]}-{addresses[2]}, state in {folder}"
            )
            .ConfigureAwait(false);
        await using var proxy = EmbeddedProxy.Build(options);
        var timeline = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        int exitCode;
        try
        {
            foreach (var node in Blue)
            {
                await RunScriptAsync(script, "start", Path.Combine(folder, node)).ConfigureAwait(false);
            }

            await proxy.StartAsync().ConfigureAwait(false);
            await WaitAsync(
                    () =>
                        proxy.Registry.Destinations("demo").Where(d => Blue.Contains(d.Name)).All(d => d.Healthy)
                        && Blue.All(n => File.Exists(Path.Combine(folder, n, "state"))),
                    TimeSpan.FromSeconds(30)
                )
                .ConfigureAwait(false);
            await using var load = new DemoLoad(options.Listeners[0].Listen.Port, options.Listeners[1].Listen.Port);
            load.Start(tcpClients: 12, webSockets: 6, httpPerSecond: 20);
            using var sampling = new CancellationTokenSource();
            var sampler = SampleAsync(proxy.Registry, timeline, sampling.Token);
            await Task.Delay(1500).ConfigureAwait(false);

            await o.WriteLineAsync().ConfigureAwait(false);
            await o.WriteLineAsync("== 1/2 rolling upgrade 1.0 -> 2.0 of blue-1..3 ==").ConfigureAwait(false);
            var rolling = await RunPlanAsync(WritePlan(folder, script, options, "rolling"), folder)
                .ConfigureAwait(false);
            var parallel = rolling.ExitCode;
            if (rolling.ExitCode == 0)
            {
                await o.WriteLineAsync().ConfigureAwait(false);
                await o.WriteLineAsync("== 2/2 parallel cutover to a new cluster green-1..3 on 3.0 ==")
                    .ConfigureAwait(false);
                parallel = (
                    await RunPlanAsync(WritePlan(folder, script, options, "parallel"), folder).ConfigureAwait(false)
                ).ExitCode;
            }

            await Task.Delay(1500).ConfigureAwait(false);
            await sampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            var counts = load.Counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            var cuts = load.Cuts;
            await load.DisposeAsync().ConfigureAwait(false);
            exitCode = rolling.ExitCode != 0 ? rolling.ExitCode : parallel;
            await SummaryAsync(timeline, counts, cuts, watch.Elapsed, exitCode).ConfigureAwait(false);
            if (exitCode == 0 && counts.Any(c => c.Value.Failed > 0))
            {
                exitCode = ExitCodes.HaltedOrRolledBack;
            }
        }
        finally
        {
            await proxy.StopAsync().ConfigureAwait(false);
            foreach (var node in all)
            {
                await RunScriptAsync(script, "stop", Path.Combine(folder, node)).ConfigureAwait(false);
            }

            Directory.Delete(folder, recursive: true);
        }

        return exitCode;
    }

    private async Task<RunOutcome> RunPlanAsync(string planPath, string folder)
    {
        var plan = PlanLoader.LoadFile(planPath);
        if (plan.Plan is null)
        {
            throw new InvalidOperationException("demo plan invalid: " + string.Join("; ", plan.Diagnostics));
        }

        var outcome = await Orchestrator
            .RunAsync(
                plan.Plan,
                io.Adapters,
                new RunOptions { StateRoot = Path.Combine(folder, "state"), Observer = io.Progress() }
            )
            .ConfigureAwait(false);
        await io
            .Output.WriteLineAsync($"{outcome.Status.ToString().ToUpperInvariant()}: {outcome.Summary}")
            .ConfigureAwait(false);
        return outcome;
    }

    private async Task SummaryAsync(
        Dictionary<string, List<int>> timeline,
        List<KeyValuePair<string, (long Attempted, long Failed)>> counts,
        long cuts,
        TimeSpan elapsed,
        int exitCode
    )
    {
        var o = io.Output;
        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync($"== summary ({elapsed.TotalSeconds:0}s, exit code {exitCode}) ==")
            .ConfigureAwait(false);
        await WriteTimelineAsync(timeline).ConfigureAwait(false);
        await o.WriteLineAsync("client operations:").ConfigureAwait(false);
        foreach (var (operation, (attempted, failed)) in counts)
        {
            await o.WriteLineAsync($"  {operation, -18} attempted {attempted, 6}   failed {failed}")
                .ConfigureAwait(false);
        }

        await o.WriteLineAsync($"  sessions ended by drains (clients reconnected): {cuts}").ConfigureAwait(false);
    }

    private static async Task SampleAsync(
        ProxyRegistry registry,
        Dictionary<string, List<int>> timeline,
        CancellationToken stop
    )
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var d in registry.Destinations("demo"))
            {
                if (!timeline.TryGetValue(d.Name, out var samples))
                {
                    timeline[d.Name] = samples = [];
                }

                samples.Add(d.Live);
            }

            try
            {
                await Task.Delay(1000, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string WritePlan(string folder, string script, ProxyOptions options, string strategy)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"[cluster]\nname = \"demo-{strategy}\"\n");
        void Node(string table, string name, int index) =>
            text.AppendLine(
                CultureInfo.InvariantCulture,
                $"[[{table}]]\nname = \"{name}\"\nhost = \"127.0.0.{41 + index}\"\nerlang_node = \"demo"
                    + $"{index + 1}@127.0.0.{41 + index}\"\nlb_ids = {{ proxy = \"{name}\" }}\nvars = {{ dir = \""
                    + $"{Path.Combine(folder, name)}\" }}\n"
            );
        for (var i = 0; i < Blue.Length; i++)
        {
            Node("nodes", Blue[i], i);
        }

        text.AppendLine(
            $$"""
            [access]
            kind = "local"
            command_timeout = "30s"

            [product]
            kind = "generic"
            start_timeout = "30s"
            [product.commands]
            status = ["{{script}}", "status", "{var.dir}"]
            version = { run = ["cat", "{var.dir}/running-version"], parse = "regex", pattern = '^(\S+)' }
            sessions = ["cat", "{var.dir}/sessions"]
            stop = ["{{script}}", "stop", "{var.dir}"]
            start = ["{{script}}", "start", "{var.dir}"]

            [[load_balancers]]
            name = "proxy"
            kind = "yarp"
            admin_url = "http://{{options.Admin.Listen}}"
            cluster = "demo"

            [[gates]]
            name = "http"
            kind = "http"
            url = "http://{host}:{{options.Clusters[0].Destinations[0].HttpPort}}/version"
            timeout = "2s"

            """
        );
        if (strategy == "rolling")
        {
            text.AppendLine(
                "[upgrade]\ntarget_version = \"2.0\"\ninstall = \"echo {version} > "
                    + "{var.dir}/version\"\nbackup_config = false\n"
            );
            text.AppendLine("[strategy]\nkind = \"rolling\"\ncapacity_nodes = 2\n");
        }
        else
        {
            text.AppendLine("[upgrade]\ntarget_version = \"3.0\"\nbackup_config = false\n");
            text.AppendLine(
                $"[strategy]\nkind = \"parallel\"\ntraffic_steps = [25, 50, 100]\nstep_pause = \"1s\"\nprovision = "
                    + $"[\"echo {{version}} > {{var.dir}}/version\"]\nstart = [\"{script}\", \"start\", "
                    + $"\"{{var.dir}}\"]\n"
            );
            for (var i = 0; i < Green.Length; i++)
            {
                Node("strategy.green_nodes", Green[i], Blue.Length + i);
            }
        }

        text.AppendLine(
            "[strategy.drain]\ntimeout = \"2s\"\non_timeout = \"evict\"\neviction_rate = 20\npoll_interval = "
                + "\"200ms\"\nzero_readings = 2\n"
        );
        var path = Path.Combine(folder, $"{strategy}.toml");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>start | stop | status DIR for one demo node process (its pid kept in DIR/pid).</summary>
    private string WriteNodeScript(string folder)
    {
        var launch = string.Join(' ', io.NodeLauncher.Select(part => $"\"{part}\""));
        var path = Path.Combine(folder, "node.sh");
        File.WriteAllText(
            path,
            $$"""
            #!/bin/sh
            # node.sh start|stop|status DIR: one demo node, stopped by the process id in DIR/pid.
            dir=$2
            gone() { [ ! -e /proc/$1 ] || [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ]; }
            case $1 in
              start)
                if [ -f "$dir/pid" ] && ! gone "$(cat "$dir/pid")"; then exit 0; fi
                rm -f "$dir/state"
                setsid {{launch}} demo-node --dir "$dir" --name "$(cat "$dir/name")" --host "$(cat "$dir/host")" \
                  --http-port "$(cat "$dir/http")" --tcp-port "$(cat "$dir/tcp")" </dev/null >>"$dir/log" 2>&1 &
                echo $! > "$dir/pid" ;;
              stop)
                [ -f "$dir/pid" ] || exit 0
                pid=$(cat "$dir/pid")
                kill -TERM "$pid" 2>/dev/null || true
                n=0; while ! gone "$pid" && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
                gone "$pid" || kill -KILL "$pid" 2>/dev/null || true ;;
              status)
                [ -f "$dir/state" ] && [ -f "$dir/pid" ] && ! gone "$(cat "$dir/pid")" ;;
            esac

            """
        );
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task RunScriptAsync(string script, string verb, string dir)
    {
        using var process = Process.Start(
            new ProcessStartInfo(script)
            {
                ArgumentList = { verb, dir },
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }
        )!;
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the demo nodes did not come up");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private static int FreePort(string address = "127.0.0.1")
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int FreePortOnAll(string[] addresses)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = FreePort(addresses[0]);
            if (
                addresses
                    .Skip(1)
                    .All(a =>
                    {
                        try
                        {
                            using var l = new System.Net.Sockets.TcpListener(IPAddress.Parse(a), port);
                            l.Start();
                            return true;
                        }
                        catch (System.Net.Sockets.SocketException)
                        {
                            return false;
                        }
                    })
            )
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free port common to the demo addresses");
    }
}
