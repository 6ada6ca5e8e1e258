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
    private readonly List<string> _reports = [];

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
        var demoNodes = new DemoNodes(folder, all.Select((n, i) => (n, $"127.0.0.{41 + i}")).ToList(), io.NodeLauncher);
        var addresses = all.Select(demoNodes.Address).ToArray();
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "demo",
                    all.Select(
                            (n, i) =>
                                new DestinationOptions(
                                    n,
                                    addresses[i],
                                    demoNodes.HttpPort,
                                    demoNodes.TcpPort,
                                    Green.Contains(n) ? 0 : 100
                                )
                        )
                        .ToList(),
                    TimeSpan.FromMilliseconds(250)
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
        var script = demoNodes.Script;

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
            await using (Preparing.Start(o, "starting blue-1..3 and the proxy"))
            {
                foreach (var node in Blue)
                {
                    await demoNodes.StartAsync(node).ConfigureAwait(false);
                }

                await proxy.StartAsync().ConfigureAwait(false);
            }

            await WaitAsync(
                    () =>
                        proxy.Registry.Destinations("demo").Where(d => Blue.Contains(d.Name)).All(d => d.Healthy)
                        && Blue.All(demoNodes.IsUp),
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
            load.CountFromNow();
            var rolling = await RunPlanAsync(WritePlan(demoNodes, options, "rolling"), folder).ConfigureAwait(false);
            var parallel = rolling.ExitCode;
            if (rolling.ExitCode == 0)
            {
                await o.WriteLineAsync().ConfigureAwait(false);
                await o.WriteLineAsync("== 2/2 parallel cutover to a new cluster green-1..3 on 3.0 ==")
                    .ConfigureAwait(false);
                parallel = (
                    await RunPlanAsync(WritePlan(demoNodes, options, "parallel"), folder).ConfigureAwait(false)
                ).ExitCode;
            }

            await Task.Delay(1500).ConfigureAwait(false);
            await sampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            var counts = load.Counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            var cuts = load.Cuts;
            await load.DisposeAsync().ConfigureAwait(false);
            exitCode = rolling.ExitCode != 0 ? rolling.ExitCode : parallel;
            if (exitCode == 0 && counts.Any(c => c.Value.Failed > 0))
            {
                exitCode = ExitCodes.HaltedOrRolledBack;
            }

            await SummaryAsync(timeline, counts, cuts, watch.Elapsed, exitCode).ConfigureAwait(false);
            await ReportsAsync().ConfigureAwait(false);
        }
        finally
        {
            await proxy.StopAsync().ConfigureAwait(false);
            foreach (var node in all)
            {
                await demoNodes.StopAsync(node).ConfigureAwait(false);
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

        var state = Path.Combine(folder, "state");
        Task<RunOutcome> Run(IRunObserver observer) =>
            Orchestrator.RunAsync(
                plan.Plan,
                io.Adapters,
                // The demo's steps last seconds, not minutes: a heartbeat every 2 s shows its drains as they go.
                new RunOptions
                {
                    StateRoot = state,
                    Observer = observer,
                    HeartbeatInterval = TimeSpan.FromSeconds(2),
                }
            );
        var outcome = io.Watch is { } watch
            ? await watch(plan.Plan, Run).ConfigureAwait(false)
            : await Run(io.Progress()).ConfigureAwait(false);
        await io
            .Output.WriteLineAsync($"{outcome.Status.ToString().ToUpperInvariant()}: {outcome.Summary}")
            .ConfigureAwait(false);
        if (outcome.RunId is { } runId)
        {
            _reports.Add(await WriteReportAsync(plan.Plan, state, runId).ConfigureAwait(false));
        }

        return outcome;
    }

    /// <summary>The run's HTML report, made from its journal before the demo's folder goes away.</summary>
    private static async Task<string> WriteReportAsync(Plans.Model.Plan plan, string state, string runId)
    {
        await using var store = new Journaling.FileRunStore(state);
        var path = Path.Combine(Path.GetTempPath(), "rollingupgrade-demo-reports", $"{plan.Cluster.Name}-{runId}.html");
        return await Reporting
                .ReportFile.WriteAsync(store, plan.Cluster.Name, runId, path, new Journaling.SecretRedactor())
                .ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the demo's run {runId} has no journal");
    }

    /// <summary>After the summary: where each run's report is.</summary>
    private async Task ReportsAsync()
    {
        if (_reports.Count == 0)
        {
            return;
        }

        await io.Output.WriteLineAsync("reports (open in a browser):").ConfigureAwait(false);
        foreach (var path in _reports)
        {
            await io.Output.WriteLineAsync($"  report: {path}").ConfigureAwait(false);
        }
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
        await o.WriteLineAsync("client operations from the first step of the upgrade:").ConfigureAwait(false);
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

    private static string WritePlan(DemoNodes nodes, ProxyOptions options, string strategy)
    {
        var folder = nodes.Folder;
        var script = nodes.Script;
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
            {{nodes.PlanSections()}}
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
}
