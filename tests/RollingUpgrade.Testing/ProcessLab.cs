using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Testing;

/// <summary>
/// What the process-level checks run against: six demo nodes (blue b1-b3 serving 1.0, green g1-g3
/// stopped) on their own loopback addresses, the embedded proxy and an HAProxy pair in front of them,
/// and clients through all three the whole time. The CLI runs as a child process
/// (<see cref="StartCli"/>) so it can be killed and signalled like in production. Everything is
/// stopped by process id in <see cref="DisposeAsync"/>.
/// </summary>
public sealed class ProcessLab : IAsyncDisposable
{
    public static readonly string[] Blue = ["b1", "b2", "b3"];
    public static readonly string[] Green = ["g1", "g2", "g3"];

    private readonly List<DemoLoad> _loads = [];
    private readonly List<ChildProcess> _clis = [];

    private ProcessLab(string folder, DemoNodes nodes, ProxyOptions options)
    {
        Folder = folder;
        Nodes = nodes;
        Options = options;
        Proxy = EmbeddedProxy.Build(options);
    }

    public string Folder { get; }

    public DemoNodes Nodes { get; }

    public ProxyOptions Options { get; }

    public EmbeddedProxy Proxy { get; }

    public HAProxyInstance HAProxyA { get; private set; } = null!;

    public HAProxyInstance HAProxyB { get; private set; } = null!;

    public string StateRoot => Path.Combine(Folder, "state");

    public string JournalFolder => Path.Combine(StateRoot, "lab", "runs");

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll");

    /// <summary>Starts everything, waits until every balancer sees blue healthy, then starts the clients.</summary>
    public static async Task<ProcessLab> StartAsync(int firstAddress)
    {
        var folder = Directory.CreateTempSubdirectory("ru-lab-").FullName;
        var all = Blue.Concat(Green).ToArray();
        var nodes = new DemoNodes(
            folder,
            all.Select((n, i) => (n, $"127.0.0.{firstAddress + i}")).ToList(),
            ["dotnet", CliDll]
        );
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "lab",
                    all.Select(n => new DestinationOptions(
                            n,
                            nodes.Address(n),
                            nodes.HttpPort,
                            nodes.TcpPort,
                            Green.Contains(n) ? 0 : 100
                        ))
                        .ToList(),
                    TimeSpan.FromMilliseconds(250)
                ),
            ],
            [
                new ListenerOptions(ListenerKind.Http, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "lab"),
                new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "lab"),
            ]
        );
        var lab = new ProcessLab(folder, nodes, options);
        try
        {
            await Task.WhenAll(Blue.Select(nodes.StartAsync));
            await lab.Proxy.StartAsync();
            var servers = all.Select(n => (n, nodes.Address(n))).ToList();
            var weights = Green.ToDictionary(n => n, _ => 0);
            lab.HAProxyA = new HAProxyInstance(
                folder,
                "ha-a",
                servers,
                nodes.TcpPort,
                nodes.HttpPort,
                xmppChecks: false,
                weights: weights
            );
            lab.HAProxyB = new HAProxyInstance(
                folder,
                "ha-b",
                servers,
                nodes.TcpPort,
                nodes.HttpPort,
                xmppChecks: false,
                weights: weights
            );
            await WaitAsync(() => lab.ServingEverywhereAsync(Blue), "blue serving in every balancer");
            foreach (var (http, tcp) in lab.Frontends)
            {
                var load = new DemoLoad(http, tcp);
                load.Start(tcpClients: 3, webSockets: 2, httpPerSecond: 10);
                lab._loads.Add(load);
            }

            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>HTTP and TCP frontends of the embedded proxy and of each HAProxy.</summary>
    public IReadOnlyList<(int Http, int Tcp)> Frontends =>
        [
            (Options.Listeners[0].Listen.Port, Options.Listeners[1].Listen.Port),
            (HAProxyA.HttpFrontendPort, HAProxyA.TcpFrontendPort),
            (HAProxyB.HttpFrontendPort, HAProxyB.TcpFrontendPort),
        ];

    /// <summary>Client operations per kind, summed over all frontends: attempted and failed.</summary>
    public IReadOnlyDictionary<string, (long Attempted, long Failed)> ClientOperations =>
        _loads
            .SelectMany(l => l.Counts)
            .GroupBy(c => c.Key, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => (g.Sum(c => c.Value.Attempted), g.Sum(c => c.Value.Failed)),
                StringComparer.Ordinal
            );

    public long FailedClientOperations => ClientOperations.Values.Sum(c => c.Failed);

    /// <summary>For failure messages: each demo node's pid file, ready marker and last log lines.</summary>
    public string NodeDiagnostics() =>
        string.Join(
            "\n",
            Nodes
                .Names.Order(StringComparer.Ordinal)
                .Select(name =>
                {
                    var dir = Nodes.Dir(name);
                    var pid = File.Exists(Path.Combine(dir, "pid"))
                        ? File.ReadAllText(Path.Combine(dir, "pid")).Trim()
                        : "-";
                    var alive = pid != "-" && Directory.Exists($"/proc/{pid}");
                    var log = File.Exists(Path.Combine(dir, "log"))
                        ? string.Join("\n    ", File.ReadLines(Path.Combine(dir, "log")).TakeLast(8))
                        : "(no log)";
                    return $"{name}: pid {pid} ({(alive ? "alive" : "gone")}), ready marker "
                        + $"{(Nodes.IsUp(name) ? "present" : "absent")}\n    {log}";
                })
        );

    /// <summary>
    /// The plan both strategies share: local access, the demo nodes' script, the embedded proxy and the HAProxy
    /// pair, an HTTP gate, a short drain with eviction. Rolling upgrades blue to 2.0; parallel moves the traffic
    /// to green on 2.0 in steps.
    /// </summary>
    public string WritePlan(string strategy)
    {
        var text = new StringBuilder();
        text.AppendLine("[cluster]\nname = \"lab\"\n");
        void Node(string table, string name) =>
            text.AppendLine(
                CultureInfo.InvariantCulture,
                $"[[{table}]]\nname = \"{name}\"\nhost = \"{Nodes.Address(name)}\"\nerlang_node = \"{name}@"
                    + $"{Nodes.Address(name)}\"\nlb_ids = {{ proxy = \"{name}\", edge = \"{name}\" }}\nvars = "
                    + $"{{ dir = \"{Nodes.Dir(name)}\" }}\n"
            );
        foreach (var name in Blue)
        {
            Node("nodes", name);
        }

        var script = Nodes.Script;
        text.AppendLine(
            CultureInfo.InvariantCulture,
            $$"""
            {{Nodes.PlanSections()}}
            [[load_balancers]]
            name = "proxy"
            kind = "yarp"
            admin_url = "http://{{Options.Admin.Listen}}"
            cluster = "lab"

            [[load_balancers]]
            name = "edge"
            kind = "haproxy"
            sockets = ["{{HAProxyA.SocketPath}}", "{{HAProxyB.SocketPath}}"]
            backends = ["be_xmpp", "be_http"]
            ready_timeout = "20s"

            [[gates]]
            name = "http"
            kind = "http"
            url = "http://{host}:{{Nodes.HttpPort}}/version"
            timeout = "2s"

            """
        );
        if (strategy == "rolling")
        {
            text.AppendLine(
                "[upgrade]\ntarget_version = \"2.0\"\ninstall = \"echo {version} > {var.dir}/version\"\ninstall_is_idempotent = true\n"
                    + "backup_config = false\n"
            );
            text.AppendLine("[strategy]\nkind = \"rolling\"\ncapacity_nodes = 2\n");
        }
        else
        {
            text.AppendLine(
                "[upgrade]\ntarget_version = \"2.0\"\ninstall_is_idempotent = true\nbackup_config = false\n"
            );
            text.AppendLine(
                CultureInfo.InvariantCulture,
                $"[strategy]\nkind = \"parallel\"\ntraffic_steps = [25, 50, 100]\nstep_pause = \"1s\"\nprovision = "
                    + $"[\"echo {{version}} > {{var.dir}}/version\"]\nstart = [\"{script}\", \"start\", \"{{var.dir}}\"]\n"
            );
            foreach (var name in Green)
            {
                Node("strategy.green_nodes", name);
            }
        }

        text.AppendLine(
            "[strategy.drain]\ntimeout = \"2s\"\non_timeout = \"evict\"\neviction_rate = 20\npoll_interval = "
                + "\"200ms\"\nzero_readings = 2\n"
        );
        var path = Path.Combine(Folder, $"{strategy}.toml");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>The CLI as a child process: <c>rollingupgrade ARGS [--state-dir STATE]</c>.</summary>
    public ChildProcess StartCli(params string[] args)
    {
        string[] state = args[0] is "plan" or "validate" ? [] : ["--state-dir", StateRoot];
        var cli = ChildProcess.Start("dotnet", [CliDll, .. args, .. state]);
        _clis.Add(cli);
        return cli;
    }

    /// <summary>
    /// The journal lines of the lab's current run, as (type, phase, step) for each complete line.
    /// </summary>
    public IReadOnlyList<(string Type, string? Phase, int? Step)> JournalLines()
    {
        var current = Path.Combine(StateRoot, "lab", "current");
        if (!File.Exists(current))
        {
            return [];
        }

        var path = Path.Combine(JournalFolder, File.ReadAllText(current).Trim() + ".jsonl");
        if (!File.Exists(path))
        {
            return [];
        }

        string text;
        using (
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)
        )
        using (var reader = new StreamReader(stream))
        {
            text = reader.ReadToEnd();
        }

        var lines = text.Split('\n');
        var result = new List<(string, string?, int?)>();
        // The last piece is empty when the file ends with a newline, or a line being written: skip it.
        foreach (var line in lines.Take(lines.Length - 1))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            result.Add(
                (
                    root.GetProperty("type").GetString()!,
                    root.TryGetProperty("phase", out var phase) ? phase.GetString() : null,
                    root.TryGetProperty("step", out var step) ? step.GetInt32() : null
                )
            );
        }

        return result;
    }

    /// <summary>
    /// What an uninterrupted run is compared on: each node's process and version, each balancer's admin state
    /// and weight for each server (health and counters change with time and are left out).
    /// </summary>
    public async Task<string> EndStateAsync()
    {
        var lines = new List<string>();
        foreach (var name in Blue.Concat(Green))
        {
            lines.Add(
                $"{name}: {(Nodes.RunningVersion(name) is { } v ? "serving " + v : "stopped")}, installed "
                    + File.ReadAllText(Path.Combine(Nodes.Dir(name), "version")).Trim()
            );
        }

        foreach (var d in Proxy.Registry.Destinations("lab").OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            lines.Add($"proxy/{d.Name}: {d.State} weight {d.Weight}");
        }

        foreach (var (label, haproxy) in new[] { ("ha-a", HAProxyA), ("ha-b", HAProxyB) })
        {
            var state = await haproxy.CommandAsync("show servers state");
            foreach (
                var fields in state
                    .Split('\n')
                    .Select(l => l.Split(' '))
                    .Where(f => f.Length > 8 && f[0] != "#" && f[1].StartsWith("be_", StringComparison.Ordinal))
            )
            {
                lines.Add($"{label}/{fields[1]}/{fields[3]}: admin {fields[6]} weight {fields[7]}");
            }
        }

        return string.Join("\n", lines);
    }

    /// <summary>Waits until every balancer sends new traffic to exactly <paramref name="names"/>.</summary>
    public Task WaitServingAsync(IReadOnlyList<string> names) =>
        WaitAsync(() => ServingEverywhereAsync(names), $"{string.Join(", ", names)} serving in every balancer");

    private async Task<bool> ServingEverywhereAsync(IReadOnlyList<string> names)
    {
        var proxy = Proxy.Registry.Destinations("lab").Where(d => d.Available).Select(d => d.Name);
        if (!proxy.Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal)))
        {
            return false;
        }

        foreach (var haproxy in new[] { HAProxyA, HAProxyB })
        {
            var stat = await haproxy.CommandAsync("show stat");
            var up = stat.Split('\n')
                .Select(l => l.Split(','))
                .Where(f => f.Length > 18 && f[0].StartsWith("be_", StringComparison.Ordinal) && f[1] != "BACKEND")
                .Where(f => f[17] == "UP" && f[18] != "0")
                .Select(f => (f[0], f[1]))
                .ToHashSet();
            if (names.Any(n => !up.Contains(("be_xmpp", n)) || !up.Contains(("be_http", n))))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the lab never reached: {what}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var load in _loads)
        {
            await load.DisposeAsync();
        }

        foreach (var cli in _clis)
        {
            cli.Dispose();
        }

        HAProxyA?.Dispose();
        HAProxyB?.Dispose();
        await Proxy.DisposeAsync();
        await Task.WhenAll(Nodes.Names.Select(Nodes.StopAsync));
        Directory.Delete(Folder, recursive: true);
    }
}
