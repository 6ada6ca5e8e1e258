using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// Three emulated .deb installs of MongooseIM 6.2.1 (their control script re-executes itself as its runner
/// user and re-parses every argument) in one cluster, behind a real HAProxy, and an example plan adapted to them.
/// Only what cannot exist here is changed in the plan: local access (with sudo) instead of SSH, the nodes'
/// addresses and folders, the installer, and the gates (which need a real XMPP server).
/// </summary>
public sealed class EmulatedMongooseImCluster : IAsyncDisposable
{
    private static readonly string[] Names = ["mim-1", "mim-2", "mim-3"];

    private readonly string _folder = Directory.CreateTempSubdirectory("ru-mim-readme-").FullName;
    private readonly List<MongooseImNode> _nodes;
    private readonly BackendServers _servers;
    private readonly HAProxyInstance _haproxy;

    public EmulatedMongooseImCluster()
    {
        File.SetUnixFileMode(_folder, (UnixFileMode)0b111_111_111);
        var cluster = Directory.CreateDirectory(Path.Combine(_folder, "cluster")).FullName;
        File.SetUnixFileMode(cluster, (UnixFileMode)0b111_111_111);
        File.WriteAllText(Path.Combine(cluster, "members"), string.Join("\n", Names.Select(n => $"mongooseim@{n}")));
        _nodes = Names.Select(n => new MongooseImNode($"mongooseim@{n}", "6.2.1")).ToList();
        foreach (var node in _nodes)
        {
            node.JoinSharedCluster(cluster);
            Directory.CreateDirectory(Path.Combine(node.Base, "etc"));
            File.WriteAllText(Path.Combine(node.Base, "etc", "mongooseim.toml"), "[general]\n");
            File.WriteAllText(Path.Combine(node.Base, "etc", "vm.args"), "-sname mongooseim\n-setcookie mim\n");
        }

        var servers = Names
            .Select((n, i) => (n.Replace("-", "", StringComparison.Ordinal), $"127.0.0.{51 + i}"))
            .ToList();
        _servers = new BackendServers(servers);
        _haproxy = new HAProxyInstance(
            _folder,
            "haproxy",
            servers,
            _servers.TcpPort,
            _servers.HttpPort,
            xmppChecks: false
        );
    }

    public async ValueTask DisposeAsync()
    {
        _haproxy.Dispose();
        await _servers.DisposeAsync();
        _nodes.ForEach(n => n.Dispose());
        Directory.Delete(_folder, recursive: true);
    }

    public IReadOnlyList<MongooseImNode> Nodes => _nodes;

    public string StateDir => Path.Combine(_folder, "state");

    public string WritePlan(string example)
    {
        var text = File.ReadAllText(CliCommandTests.Example(example));
        for (var i = 0; i < Names.Length; i++)
        {
            text = text.Replace($"10.0.0.1{i + 1}\"", $"127.0.0.{51 + i}\"", StringComparison.Ordinal)
                .Replace(
                    $"lb_ids = {{ edge = \"mim{i + 1}\" }}",
                    $"lb_ids = {{ edge = \"mim{i + 1}\" }}\nvars = {{ base = \"{_nodes[i].Base}\" }}",
                    StringComparison.Ordinal
                );
        }

        var access = text[
            text.IndexOf("[access]", StringComparison.Ordinal)..text.IndexOf("[product]", StringComparison.Ordinal)
        ];
        text = text.Replace(
                access,
                "[access]\nkind = \"local\"\nsudo = true\ncommand_timeout = \"1m\"\n\n",
                StringComparison.Ordinal
            )
            .Replace(
                "ctl = [\"/usr/bin/mongooseimctl\"]",
                "ctl = [\"{var.base}/bin/mongooseimctl\"]",
                StringComparison.Ordinal
            )
            .Replace("/etc/mongooseim/mongooseim.toml", "{var.base}/etc/mongooseim.toml", StringComparison.Ordinal)
            .Replace(
                "sockets = [\"/run/haproxy/admin.sock\", \"tcp:10.0.0.2:9999\"]",
                $"sockets = [\"{_haproxy.SocketPath}\", \"tcp:127.0.0.1:{_haproxy.StatsPort}\"]",
                StringComparison.Ordinal
            )
            .Replace(
                "[\"/usr/local/bin/install-mongooseim\", \"{version}\"]",
                "[\"sh\", \"-c\", \"echo $0 > $1\", \"{version}\", \"{var.base}/state/version\"]",
                StringComparison.Ordinal
            )
            .Replace(
                "[\"/usr/local/bin/install-mongooseim\", \"{from_version}\"]",
                "[\"sh\", \"-c\", \"echo $0 > $1\", \"{from_version}\", \"{var.base}/state/version\"]",
                StringComparison.Ordinal
            )
            .Replace("pause_between_nodes = \"30s\"", "pause_between_nodes = \"1s\"", StringComparison.Ordinal);
        var gates = text[
            text.IndexOf("[[gates]]", StringComparison.Ordinal)..text.IndexOf("[strategy]", StringComparison.Ordinal)
        ];
        text = text.Replace(gates, string.Empty, StringComparison.Ordinal);
        var path = Path.Combine(_folder, "plan.toml");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Each server's status in be_xmpp ("UP", "DRAIN", "MAINT", ...), by server name.</summary>
    public async Task<Dictionary<string, string>> HAProxyStatAsync() =>
        (await _haproxy.CommandAsync("show stat"))
            .Split('\n')
            .Select(l => l.Split(','))
            .Where(f => f.Length > 17 && f[0] == "be_xmpp" && f[1] != "BACKEND")
            .ToDictionary(f => f[1], f => f[17]);

    public async Task WaitAllUpAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var stat = await _haproxy.CommandAsync("show stat");
            var servers = stat.Split('\n')
                .Select(l => l.Split(','))
                .Where(f => f.Length > 17 && f[0].StartsWith("be_", StringComparison.Ordinal) && f[1] != "BACKEND")
                .ToList();
            if (servers.Count == 6 && servers.All(f => f[17] == "UP"))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("HAProxy does not see every server UP:\n" + stat);
            }

            await Task.Delay(200);
        }
    }
}
