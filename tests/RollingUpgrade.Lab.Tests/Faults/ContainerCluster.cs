using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Networks;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// A three-node ejabberd cluster on containers that are hosts of their own (Testcontainers): each node has its own
/// address, host name (ej1, ej2, ej3: the Erlang node names ejabberd@ejN), sshd on 22 and mod_http_api, all built
/// from the lab's images (deploy/compose) on a network of its own, with HAProxy and its runtime API in front. The
/// tool runs on the test host as a process and reaches the nodes by address, over SSH with known host keys.
/// Faults are container-level: kill, pause, network disconnect, a restart of HAProxy, sshd sessions killed.
/// Everything is removed by container and network id when disposed.
/// </summary>
public sealed class ContainerCluster : IAsyncDisposable
{
    /// <summary>The cluster that serves at the start (ej1 at .11 to ej3 at .13).</summary>
    public static readonly string[] Nodes = ["ej1", "ej2", "ej3"];

    /// <summary>Nodes for a blue-green cutover (ej4 at .14 to ej6 at .16): ejabberd installed, not started.</summary>
    public static readonly string[] Green = ["ej4", "ej5", "ej6"];

    private static readonly SemaphoreSlim ImagesGate = new(1, 1);
    private static int _subnets = Random.Shared.Next(200);
    private static (string Ejabberd, string HAProxy)? _images;

    private readonly Dictionary<string, IContainer> _nodes = new(StringComparer.Ordinal);
    private readonly List<ChildProcess> _clis = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private INetwork? _network;
    private IContainer? _haproxy;
    private string _lastRuntime = string.Empty;

    private ContainerCluster(string name, string folder, bool green)
    {
        All = green ? [.. Nodes, .. Green] : Nodes;
        Name = name;
        Folder = folder;
        // A subnet of its own, so addresses stay fixed when a container restarts (HAProxy keeps its address, as a
        // real one does) and clusters side by side never meet.
        Subnet = $"172.29.{Interlocked.Increment(ref _subnets) % 250}";
    }

    /// <summary>The first three octets of the cluster's /24: HAProxy is .2, the nodes .11, .12, .13.</summary>
    public string Subnet { get; }

    /// <summary>Every node of the cluster: <see cref="Nodes"/>, and <see cref="Green"/> when asked for.</summary>
    public IReadOnlyList<string> All { get; }

    /// <summary>The cluster's name in plans and the prefix of its containers.</summary>
    public string Name { get; }

    /// <summary>A folder of the test host: keys, plans, the tool's state.</summary>
    public string Folder { get; }

    public string StateDir => Path.Combine(Folder, "state");

    public string HAProxyAddress { get; private set; } = string.Empty;

    public IReadOnlyDictionary<string, string> Addresses { get; private set; } = new Dictionary<string, string>();

    public static async Task<ContainerCluster> StartAsync(string name, bool green = false)
    {
        var images = await ImagesAsync();
        var cluster = new ContainerCluster(name, Directory.CreateTempSubdirectory($"ru-{name}-").FullName, green);
        try
        {
            await cluster.StartAsync(images.Ejabberd, images.HAProxy);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(string ejabberd, string haproxy)
    {
        var keys = Path.Combine(Folder, "keys");
        Directory.CreateDirectory(keys);
        Directory.CreateDirectory(StateDir);
        await using (
            var keygen = new ContainerBuilder(ejabberd)
                .WithName($"{Name}-keys")
                .WithEntrypoint(["/usr/local/sbin/lab-keys", .. All])
                .WithBindMount(keys, "/keys")
                .WithCleanUp(false)
                .WithWaitStrategy(
                    Wait.ForUnixContainer()
                        .AddCustomWaitStrategy(new UntilExited(), wait => wait.WithMode(WaitStrategyMode.OneShot))
                )
                .Build()
        )
        {
            await keygen.StartAsync();
            (await keygen.GetExitCodeAsync()).ShouldBe(0, (await keygen.GetLogsAsync(timestampsEnabled: false)).Stderr);
        }

        var network = $"{Name}-net";
        _network = new NetworkBuilder()
            .WithName(network)
            .WithCleanUp(false)
            .WithCreateParameterModifier(p =>
                p.IPAM = new IPAM { Config = [new IPAMConfig { Subnet = $"{Subnet}.0/24", Gateway = $"{Subnet}.1" }] }
            )
            .Build();
        await _network.CreateAsync();
        foreach (var (node, i) in All.Select((n, i) => (n, i)))
        {
            var builder = new ContainerBuilder(ejabberd)
                .WithCreateParameterModifier(FixedAddress(network, $"{Subnet}.{11 + i}"))
                .WithName($"{Name}-{node}")
                .WithHostname(node)
                .WithNetwork(_network)
                .WithNetworkAliases(node)
                .WithBindMount(keys, "/keys", AccessMode.ReadOnly)
                .WithCleanUp(false)
                // Six nodes booting at once beside other scenarios on two cores: minutes, not the default wait.
                .WithWaitStrategy(
                    Wait.ForUnixContainer()
                        .UntilMessageIsLogged(
                            $"lab-node: {node} ready",
                            wait => wait.WithTimeout(TimeSpan.FromMinutes(6))
                        )
                );
            builder = node switch
            {
                _ when node == Nodes[0] => builder.WithEnvironment("LAB_USERS", "40"),
                _ when Nodes.Contains(node) => builder.WithEnvironment("LAB_JOIN", $"ejabberd@{Nodes[0]}"),
                // The new cluster: the parallel plan starts it (lab-start registers the accounts on ej4) and joins it.
                _ => builder
                    .WithEnvironment("LAB_START", "no")
                    .WithEnvironment("LAB_USERS", node == Green[0] ? "40" : "0"),
            };
            _nodes[node] = builder.Build();
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6)))
        {
            await Task.WhenAll(_nodes.Values.Select(c => c.StartAsync(timeout.Token)));
        }

        Addresses = _nodes.ToDictionary(kv => kv.Key, kv => kv.Value.IpAddress, StringComparer.Ordinal);
        // The lab's configuration names six nodes for its blue-green cutover; this cluster has three, at fixed
        // addresses (a name that does not resolve would hold HAProxy's start on a resolver with no upstream).
        var config = Path.Combine(Folder, "haproxy.cfg");
        await File.WriteAllTextAsync(config, HAProxyConfig());
        _haproxy = new ContainerBuilder(haproxy)
            .WithBindMount(config, "/etc/haproxy/haproxy.cfg", AccessMode.ReadOnly)
            .WithCreateParameterModifier(FixedAddress(network, $"{Subnet}.2"))
            .WithName($"{Name}-haproxy")
            .WithHostname("haproxy")
            .WithNetwork(_network)
            .WithNetworkAliases("haproxy")
            .WithCleanUp(false)
            .Build();
        await _haproxy.StartAsync();
        HAProxyAddress = _haproxy.IpAddress;

        // The tool on the test host reaches the nodes by address: known_hosts names their addresses.
        var knownHosts = new StringBuilder();
        foreach (var node in All)
        {
            var key = (await File.ReadAllTextAsync(Path.Combine(keys, "hosts", node, "ssh_host_ed25519_key.pub")))
                .Split(' ')
                .Take(2);
            knownHosts.Append(Addresses[node]).Append(' ').AppendJoin(' ', key).Append('\n');
        }

        await File.WriteAllTextAsync(Path.Combine(keys, "known_hosts_by_address"), knownHosts.ToString());
        try
        {
            await WaitAsync(
                async () =>
                {
                    var servers = await ServersAsync();
                    return Nodes.All(n => servers[n].Serving);
                },
                "every serving node UP in HAProxy",
                // Three ejabberd nodes booting and joining on two busy cores have needed more than a minute.
                seconds: 120,
                detail: () => $"HAProxy at {HAProxyAddress} ({_haproxy.State}): {_lastRuntime}"
            );
        }
        catch (ShouldAssertException e)
        {
            // A node that logged "ready" and then did not come UP has happened in CI, rarely: say what it was doing.
            throw new ShouldAssertException($"{e.Message}\n{await NodesDiagnosticsAsync()}", e);
        }
    }

    /// <summary>For each serving node: its container state, `ejabberdctl status` and the end of its log.</summary>
    private async Task<string> NodesDiagnosticsAsync()
    {
        var text = new StringBuilder();
        foreach (var node in Nodes)
        {
            var container = _nodes[node];
            text.Append(CultureInfo.InvariantCulture, $"--- {node} ({container.State})\n");
            try
            {
                var (code, status) = await StatusAsync(node);
                text.Append(CultureInfo.InvariantCulture, $"ejabberdctl status -> {code}: {status.Trim()}\n");
                var logs = await container.GetLogsAsync(timestampsEnabled: false);
                var lines = (logs.Stdout + logs.Stderr).Split('\n');
                text.AppendJoin('\n', lines.TakeLast(25)).Append('\n');
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                text.Append(CultureInfo.InvariantCulture, $"(could not read it: {e.Message})\n");
            }
        }

        return text.ToString();
    }

    private string HAProxyConfig()
    {
        var servers = (int port) =>
            string.Concat(
                All.Select(
                    (n, i) =>
                        $"  server {n} {Subnet}.{11 + i}:{port} check inter 1s fall 2 rise 2"
                        + $"{(Green.Contains(n) ? " weight 0" : string.Empty)}\n"
                )
            );
        return $"""
            global
              stats socket ipv4@0.0.0.0:9999 level admin expose-fd listeners
              maxconn 2000

            defaults
              mode tcp
              timeout connect 2s
              timeout client 10m
              timeout server 10m

            frontend fe_xmpp
              bind :5222
              default_backend be_xmpp

            frontend fe_http
              bind :5280
              mode http
              default_backend be_http

            backend be_xmpp
              balance leastconn
            {servers(5222)}
            backend be_http
              mode http
              balance roundrobin
            {servers(5280)}
            """;
    }

    private static Action<CreateContainerParameters> FixedAddress(string network, string address) =>
        p => p.NetworkingConfig!.EndpointsConfig[network].IPAMConfig = new EndpointIPAMConfig { IPv4Address = address };

    /// <summary>
    /// A plan for this cluster through HAProxy: rolling to 24.0 (the install may first sleep), or a blue-green
    /// cutover to 25.0 on the green nodes.
    /// </summary>
    public string WritePlan(bool parallel = false, int installDelaySeconds = 0)
    {
        var keys = Path.Combine(Folder, "keys");
        var install =
            installDelaySeconds > 0
                ? $"[\"sh\", \"-c\", \"sleep {installDelaySeconds} && lab-install {{version}}\"]"
                : "[\"lab-install\", \"{version}\"]";
        var upgrade = parallel
            ? $"""
                [upgrade]
                target_version = "25.0"
                backup_config = false

                [strategy]
                kind = "parallel"
                provision = [["lab-install", "{"{version}"}"]]
                start = ["lab-start"]
                traffic_steps = [10, 50, 100]
                step_pause = "2s"

                {NodeTables("strategy.green_nodes", Green)}
                """
            : $"""
                [upgrade]
                target_version = "24.0"
                install = {install}
                backup_config = true

                [strategy]
                kind = "rolling"
                capacity_nodes = 2
                """;
        var plan = $"""
            [cluster]
            name = "{Name}"

            {NodeTables("nodes", Nodes)}
            [access]
            kind = "ssh"
            user = "root"
            key = "{keys}/id_ed25519"
            known_hosts = "{keys}/known_hosts_by_address"
            command_timeout = "30s"

            [product]
            kind = "ejabberd"
            api_url = "http://{"{host}"}:5280/api"
            dist_address = "{"{host}"}:4370"
            config_path = "/etc/ejabberd/ejabberd.yml"
            start_timeout = "60s"

            [[load_balancers]]
            name = "haproxy"
            kind = "haproxy"
            sockets = ["tcp:{HAProxyAddress}:9999"]
            backends = ["be_xmpp", "be_http"]
            ready_timeout = "30s"

            [[gates]]
            name = "c2s"
            kind = "tcp"
            address = "{"{host}"}:5222"

            {upgrade}

            [strategy.drain]
            timeout = "4s"
            on_timeout = "evict"
            eviction_rate = 10
            poll_interval = "200ms"
            zero_readings = 3

            [rollback]
            policy = "halt"
            """;
        var path = Path.Combine(Folder, parallel ? "parallel.toml" : "rolling.toml");
        File.WriteAllText(path, plan);
        return path;
    }

    private string NodeTables(string table, IEnumerable<string> nodes) =>
        string.Join(
            "\n",
            nodes.Select(n =>
                $"""
                    [[{table}]]
                    name = "{n}"
                    host = "{Addresses[n]}"
                    erlang_node = "ejabberd@{n}"
                    lb_ids = {"{"} haproxy = "{n}" {"}"}

                    """
            )
        );

    /// <summary>The tool (the build's CLI) as a process of the test host, with this cluster's state folder.</summary>
    public ChildProcess StartCli(params string[] args)
    {
        string[] state = args[0] is "plan" or "validate" ? [] : ["--state-dir", StateDir];
        var cli = ChildProcess.Start("dotnet", [ProcessLab.CliDll, .. args, .. state]);
        _clis.Add(cli);
        return cli;
    }

    /// <summary>Step numbers by (kind, node), from `plan --output json`.</summary>
    public async Task<IReadOnlyDictionary<(string Kind, string Node), int>> StepsAsync(string plan)
    {
        using var cli = StartCli("plan", plan, "--output", "json");
        (await cli.WaitForExitAsync(TimeSpan.FromMinutes(2))).ShouldBe(0, cli.Output);
        var steps = new Dictionary<(string, string), int>();
        foreach (var line in cli.Output.Split('\n').Where(l => l.StartsWith('{')))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.GetProperty("type").GetString() != "step")
            {
                continue;
            }

            var description = root.GetProperty("description").GetString()!;
            foreach (var node in All.Where(n => description.Contains(n, StringComparison.Ordinal)))
            {
                steps.TryAdd((root.GetProperty("kind").GetString()!, node), root.GetProperty("number").GetInt32());
            }
        }

        return steps;
    }

    public async Task KillAsync(string node) => await DockerAsync("kill", _nodes[node].Id);

    public async Task PauseAsync(string node)
    {
        _paused.Add(node);
        await _nodes[node].PauseAsync();
    }

    public async Task DisconnectAsync(string node) =>
        await DockerAsync("network", "disconnect", _network!.Name, _nodes[node].Id);

    /// <summary>HAProxy killed and started again: its runtime state (drains, weights) is lost.</summary>
    public async Task RestartHAProxyAsync() => await DockerAsync("restart", "--time", "0", _haproxy!.Id);

    /// <summary>
    /// Kills the node's sshd session processes (the children of the listening sshd, PID 1), by pid: a command in
    /// flight loses its connection without an exit status. Returns how many were killed.
    /// </summary>
    public async Task<int> KillSshSessionsAsync(string node)
    {
        var result = await _nodes[node]
            .ExecAsync([
                "sh",
                "-c",
                "pids=$(ps -eo pid=,ppid=,comm= | awk '$2 == 1 && $3 == \"sshd\" { print $1 }'); "
                    + "[ -n \"$pids\" ] && kill -9 $pids; echo $pids",
            ]);
        return result.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>`ejabberdctl status` on the node: its exit code and output.</summary>
    public async Task<(long Code, string Output)> StatusAsync(string node)
    {
        var result = await _nodes[node].ExecAsync(["ejabberdctl", "status"]);
        return (result.ExitCode ?? -1, result.Stdout + result.Stderr);
    }

    public async Task<string> ExecAsync(string node, params string[] command)
    {
        var result = await _nodes[node].ExecAsync(command);
        result.ExitCode.ShouldBe(0, result.Stdout + result.Stderr);
        return result.Stdout;
    }

    /// <summary>Each node's state in HAProxy, read from its runtime API (`show servers state`), over both backends.</summary>
    public async Task<IReadOnlyDictionary<string, ServerReading>> ServersAsync()
    {
        var text = await RuntimeAsync("show servers state");
        _lastRuntime = text;
        var readings = new Dictionary<string, ServerReading>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && char.IsDigit(l[0])))
        {
            // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
            var fields = line.Split(' ');
            if (fields.Length < 7 || !All.Contains(fields[3]))
            {
                continue;
            }

            var up = fields[5] == "2";
            var ready = int.Parse(fields[6], CultureInfo.InvariantCulture) == 0;
            readings[fields[3]] = readings.TryGetValue(fields[3], out var other)
                ? new ServerReading(other.Up && up, other.Ready && ready)
                : new ServerReading(up, ready);
        }

        readings.Keys.Order().ToArray().ShouldBe(All, customMessage: $"servers in HAProxy:\n{text}");
        return readings;
    }

    private async Task<string> RuntimeAsync(string command)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(HAProxyAddress, 9999, timeout.Token);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\n"), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>The lines of every journal in the state folder, each parsed (a torn or garbled line fails).</summary>
    public IReadOnlyList<JsonElement> JournalRecords()
    {
        var records = new List<JsonElement>();
        foreach (var file in Directory.GetFiles(StateDir, "*.jsonl", SearchOption.AllDirectories).Order())
        {
            foreach (var line in File.ReadAllLines(file).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                records.Add(json.RootElement.Clone());
            }
        }

        return records;
    }

    public static async Task WaitAsync(
        Func<Task<bool>> condition,
        string what,
        int seconds = 60,
        Func<string>? detail = null
    )
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var error = string.Empty;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // Not answering yet.
                error = e.Message;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"timed out waiting for {what}\n{error}\n{detail?.Invoke()}");
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cli in _clis)
        {
            cli.Dispose();
        }

        foreach (var node in _paused)
        {
            await Quietly(() => _nodes[node].UnpauseAsync());
        }

        foreach (var container in _nodes.Values.Append(_haproxy).OfType<IContainer>())
        {
            await Quietly(async () => await DockerAsync("rm", "--force", "--volumes", container.Id));
            await Quietly(async () => await container.DisposeAsync());
        }

        if (_network is not null)
        {
            await Quietly(async () => await DockerAsync("network", "rm", _network.Name));
        }

        Directory.Delete(Folder, recursive: true);
    }

    private static async Task Quietly(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Cleanup goes on with the next container.
        }
    }

    private static async Task DockerAsync(params string[] args)
    {
        var (code, output) = await Packages.TryRunAsync("docker", args, timeout: TimeSpan.FromMinutes(2));
        code.ShouldBe(0, $"docker {string.Join(' ', args)}: {output}");
    }

    private static async Task<(string Ejabberd, string HAProxy)> ImagesAsync()
    {
        await ImagesGate.WaitAsync();
        try
        {
            if (_images is { } made)
            {
                return made;
            }

            var compose = Path.Combine(Packages.RepositoryRoot, "deploy", "compose");
            var ejabberd = await BuildAsync(Path.Combine(compose, "ejabberd"), "rollingupgrade-faults/ejabberd:test");
            var haproxy = await BuildAsync(Path.Combine(compose, "haproxy"), "rollingupgrade-faults/haproxy:test");
            _images = (ejabberd, haproxy);
            return _images.Value;
        }
        finally
        {
            ImagesGate.Release();
        }
    }

    private static async Task<string> BuildAsync(string folder, string name)
    {
        var image = new ImageFromDockerfileBuilder()
            .WithDockerfileDirectory(folder)
            .WithDockerfile("Dockerfile")
            .WithName(name)
            .WithBuildArgument("BASE", "local/debian:bookworm")
            .WithCleanUp(false)
            .Build();
        await image.CreateAsync();
        return image.FullName;
    }

    /// <summary>A one-shot container is ready when it has run to its end.</summary>
    private sealed class UntilExited : IWaitUntil
    {
        public Task<bool> UntilAsync(IContainer container) =>
            Task.FromResult(container.State == TestcontainersStates.Exited);
    }
}
