using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The CETS blue-green example (deploy/examples/parallel-mongooseim-cets.toml, 6.3.1 -> 6.3.2) end to end against
/// emulated .deb installs under sudo behind a real HAProxy: two blue nodes serving, two green nodes provisioned,
/// started, found by CETS discovery (no join), verified as a cluster of their own, and the traffic moved. A green
/// cluster that shares the blue one's cluster_name merges with it: the run halts before any traffic moves.
/// </summary>
public sealed class MongooseImCetsParallelTests : IAsyncLifetime
{
    private static readonly string[] Names = ["blue-1", "blue-2", "green-1", "green-2"];

    private readonly string _folder = Directory.CreateTempSubdirectory("ru-mim-cets-parallel-").FullName;
    private readonly List<MongooseImNode> _nodes = [];
    private BackendServers _servers = null!;
    private HAProxyInstance _haproxy = null!;

    public Task InitializeAsync()
    {
        File.SetUnixFileMode(_folder, (UnixFileMode)0b111_111_111);
        var servers = Names
            .Select((n, i) => (n.Replace("-", "", StringComparison.Ordinal), $"127.0.0.{61 + i}"))
            .ToList();
        _servers = new BackendServers(servers);
        _haproxy = new HAProxyInstance(
            _folder,
            "haproxy",
            servers,
            _servers.TcpPort,
            _servers.HttpPort,
            xmppChecks: false,
            weights: new Dictionary<string, int> { ["green1"] = 0, ["green2"] = 0 }
        );
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _haproxy.Dispose();
        await _servers.DisposeAsync();
        _nodes.ForEach(n => n.Dispose());
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The CETS discovery of one cluster_name: a folder its running nodes register in.</summary>
    private string Discovery(string name, IEnumerable<string> members)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder, name)).FullName;
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        File.WriteAllText(Path.Combine(folder, "members"), string.Join("\n", members) + "\n");
        File.SetUnixFileMode(Path.Combine(folder, "members"), (UnixFileMode)0b110_110_110);
        return folder;
    }

    /// <summary>
    /// Blue nodes run 6.3.1 in the "blue" discovery; green nodes are stopped. With <paramref name="sameClusterName"/>
    /// the green nodes' config names the blue cluster_name: provisioning registers them in the blue discovery.
    /// </summary>
    private string Prepare(bool sameClusterName)
    {
        var blue = Discovery("blue", ["mongooseim@blue-1", "mongooseim@blue-2"]);
        var green = Discovery("green", ["mongooseim@green-1", "mongooseim@green-2"]);
        foreach (var name in Names)
        {
            var isBlue = name.StartsWith("blue", StringComparison.Ordinal);
            var node = new MongooseImNode($"mongooseim@{name}", "6.3.1", running: isBlue);
            node.Databases("cets");
            node.JoinSharedCluster(isBlue || sameClusterName ? blue : green);
            _nodes.Add(node);
        }

        var text = File.ReadAllText(CliCommandTests.Example("parallel-mongooseim-cets.toml"));
        for (var i = 0; i < Names.Length; i++)
        {
            var host = Names[i].StartsWith("blue", StringComparison.Ordinal) ? $"10.0.0.1{i + 1}" : $"10.0.0.2{i - 1}";
            var id = Names[i].Replace("-", "", StringComparison.Ordinal);
            text = text.Replace($"host = \"{host}\"", $"host = \"127.0.0.{61 + i}\"", StringComparison.Ordinal)
                .Replace(
                    $"lb_ids = {{ edge = \"{id}\" }}",
                    $"lb_ids = {{ edge = \"{id}\" }}\nvars = {{ base = \"{_nodes[i].Base}\" }}",
                    StringComparison.Ordinal
                );
        }

        var access = text[
            text.IndexOf("[access]", StringComparison.Ordinal)..text.IndexOf("[product]", StringComparison.Ordinal)
        ];
        var gate = text[
            text.IndexOf("[[gates]]", StringComparison.Ordinal)..text.IndexOf("[strategy]", StringComparison.Ordinal)
        ];
        // Provisioning installs the version; with the blue cluster_name the node registers in the blue discovery.
        var register = sameClusterName ? $" && echo $2 >> {blue}/members" : string.Empty;
        text = text.Replace(
                access,
                "[access]\nkind = \"local\"\nsudo = true\ncommand_timeout = \"1m\"\n\n",
                StringComparison.Ordinal
            )
            .Replace(gate, string.Empty, StringComparison.Ordinal)
            .Replace(
                "ctl = [\"/usr/bin/mongooseimctl\"]",
                "ctl = [\"{var.base}/bin/mongooseimctl\"]",
                StringComparison.Ordinal
            )
            .Replace("start_timeout = \"2m\"", "start_timeout = \"20s\"", StringComparison.Ordinal)
            .Replace(
                "sockets = [\"/run/haproxy/admin.sock\"]",
                $"sockets = [\"{_haproxy.SocketPath}\"]",
                StringComparison.Ordinal
            )
            .Replace(
                "  [\"/usr/local/bin/install-mongooseim\", \"{version}\"],\n  \"cp /srv/config/mongooseim-green.toml {config_path}\",\n",
                $"  [\"sh\", \"-c\", \"echo $0 > $1{register}\", \"{{version}}\", \"{{var.base}}/state/version\", \"{{erlang_node}}\"],\n",
                StringComparison.Ordinal
            )
            .Replace(
                "start = [\"/usr/bin/mongooseimctl\", \"start\"]",
                "start = [\"{var.base}/bin/mongooseimctl\", \"start\"]",
                StringComparison.Ordinal
            )
            .Replace("step_pause = \"5m\"", "step_pause = \"1s\"", StringComparison.Ordinal)
            .Replace("step_gates = [\"c2s-login\"]\n", string.Empty, StringComparison.Ordinal)
            .Replace("keep_old_cluster_for = \"30m\"", "keep_old_cluster_for = \"1s\"", StringComparison.Ordinal)
            .Replace("timeout = \"30m\"", "timeout = \"10s\"", StringComparison.Ordinal);
        var path = Path.Combine(_folder, "plan.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<Dictionary<string, string[]>> ServersAsync()
    {
        var stat = await _haproxy.CommandAsync("show stat");
        return stat.Split('\n')
            .Select(l => l.Split(','))
            .Where(f => f.Length > 18 && f[0] == "be_xmpp" && f[1] != "BACKEND")
            .ToDictionary(f => f[1], f => f);
    }

    [Fact(Timeout = 240_000)]
    public async Task The_Cets_parallel_example_moves_the_traffic_to_a_green_cluster_found_by_discovery()
    {
        var path = Prepare(sameClusterName: false);

        var result = await CliRunner.RunAsync("run", path, "--state-dir", Path.Combine(_folder, "state"));

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        _nodes.Take(2).ShouldAllBe(n => !n.Running && n.Version == "6.3.1");
        _nodes.Skip(2).ShouldAllBe(n => n.Running && n.Version == "6.3.2");
        foreach (var green in _nodes.Skip(2))
        {
            green.Calls.ShouldContain("[cets][systemInfo]");
            green.Calls.ShouldNotContain(c => c.Contains("joinCluster", StringComparison.Ordinal));
            green.Calls.ShouldNotContain(c => c.StartsWith("[mnesia]", StringComparison.Ordinal));
        }

        var servers = await ServersAsync();
        servers["green1"][18].ShouldNotBe("0", "green-1 carries traffic");
        servers["green2"][18].ShouldNotBe("0", "green-2 carries traffic");
        servers["blue1"][17].ShouldBeOneOf("MAINT", "DRAIN", "MAINT (via)");
    }

    [Fact(Timeout = 240_000)]
    public async Task Green_nodes_that_share_the_blue_cluster_name_merge_and_the_run_halts_before_traffic_moves()
    {
        var path = Prepare(sameClusterName: true);

        var result = await CliRunner.RunAsync("run", path, "--state-dir", Path.Combine(_folder, "state"));

        var said = result.Output + result.Error;
        result.ExitCode.ShouldBe(1, said);
        said.ShouldContain("The blue and green clusters merged");
        said.ShouldContain("give the green nodes another cluster_name");
        _nodes.Take(2).ShouldAllBe(n => n.Running && n.Version == "6.3.1");
        var servers = await ServersAsync();
        servers["green1"][18].ShouldBe("0", said);
        servers["green2"][18].ShouldBe("0", said);
        servers["blue1"][17].ShouldBe("UP", said);
        servers["blue2"][17].ShouldBe("UP", said);
    }
}
