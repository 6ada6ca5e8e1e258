using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// Two ejabberd clusters of two nodes each, with their own Erlang cookies and mnesia clusters:
/// blue (23.01, serving) on 127.0.0.11-12 and green (24.0, prepared but stopped) on 127.0.0.13-14.
/// Users are registered in both. HAProxy holds all four servers, green at weight 0; a real sshd
/// listens on every node address. Everything is stopped by process id.
/// </summary>
public sealed class ParallelHarness : IAsyncDisposable
{
    private ParallelHarness(
        string folder,
        EjabberdCluster blue,
        EjabberdCluster green,
        SshdServer sshd,
        HAProxyInstance haproxy
    )
    {
        Folder = folder;
        Blue = blue;
        Green = green;
        Sshd = sshd;
        HAProxy = haproxy;
    }

    public string Folder { get; }

    public EjabberdCluster Blue { get; }

    public EjabberdCluster Green { get; }

    public SshdServer Sshd { get; }

    public HAProxyInstance HAProxy { get; }

    public IReadOnlyList<(string User, string Password)> Users => Blue.Users.Select(u => (u, $"pw-{u}")).ToList();

    public static async Task<ParallelHarness> StartAsync(int users)
    {
        var folder = Directory.CreateTempSubdirectory("ru-parallel-").FullName;
        var blue = new EjabberdCluster("bl", 11, 2, "blue-cookie");
        var green = new EjabberdCluster("gr", 13, 2, "green-cookie", version: "24.0");
        SshdServer? sshd = null;
        HAProxyInstance? haproxy = null;
        try
        {
            await blue.StartAsync(users);

            // The green cluster is formed and given the same users once, then stopped: provisioning
            // starts it again (last stopped first, as mnesia wants).
            await green.StartAsync(users);
            await green.StopNodeAsync(2);
            await green.StopNodeAsync(1);
            sshd = new SshdServer(
                blue.Address(1),
                moreAddresses: [blue.Address(2), green.Address(1), green.Address(2)]
            );
            var servers = new[]
            {
                ("bl1", blue.Address(1)),
                ("bl2", blue.Address(2)),
                ("gr1", green.Address(1)),
                ("gr2", green.Address(2)),
            };
            haproxy = new HAProxyInstance(
                folder,
                "haproxy",
                servers,
                5222,
                5280,
                weights: new Dictionary<string, int> { ["gr1"] = 0, ["gr2"] = 0 }
            );
            return new ParallelHarness(folder, blue, green, sshd, haproxy);
        }
        catch
        {
            haproxy?.Dispose();
            sshd?.Dispose();
            await green.DisposeAsync();
            await blue.DisposeAsync();
            throw;
        }
    }

    /// <summary>A parallel-strategy plan for this harness; <paramref name="extra"/> is added to [strategy].</summary>
    public string WritePlan(string gates = "", string extra = "")
    {
        Directory.CreateDirectory(Path.Combine(Folder, "ssh"));
        File.Copy(Sshd.ClientKey("ed25519"), Path.Combine(Folder, "ssh", "id_ed25519"), overwrite: true);
        File.WriteAllText(Path.Combine(Folder, "known_hosts"), Sshd.KnownHostsLine + "\n");
        var text = $$"""
            [cluster]
            name = "ejabberd-parallel"

            {{Blue.PlanNodes("nodes", "haproxy")}}
            [access]
            kind = "ssh"
            user = "root"
            port = {{Sshd.Port}}
            key = "{{Folder}}/ssh/id_ed25519"
            known_hosts = "{{Folder}}/known_hosts"
            command_timeout = "60s"

            {{EjabberdCluster.ProductTable}}

            [[load_balancers]]
            name = "haproxy"
            kind = "haproxy"
            sockets = ["{{HAProxy.SocketPath}}"]
            backends = ["be_xmpp", "be_http"]
            ready_timeout = "20s"

            [upgrade]
            target_version = "24.0"
            backup_config = false

            {{gates}}
            [strategy]
            kind = "parallel"
            provision = [["test", "-f", "{config_path}"]]
            start = ["{var.ejnode}", "start", "{var.index}"]
            traffic_steps = [10, 50, 100]
            step_pause = "2s"
            {{extra}}

            {{Green.PlanNodes("strategy.green_nodes", "haproxy")}}
            [strategy.drain]
            timeout = "4s"
            on_timeout = "evict"
            eviction_rate = 5
            poll_interval = "500ms"
            zero_readings = 3
            """;
        var path = Path.Combine(Folder, "plan.toml");
        File.WriteAllText(path, text);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        HAProxy.Dispose();
        Sshd.Dispose();
        await Green.DisposeAsync();
        await Blue.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left behind in the temp folder.
        }
    }
}
