using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// Three backend nodes on 127.0.0.11-13 behind a real HAProxy (tcp and http frontends), plus a
/// second HAProxy for HA-pair tests. Each test gets fresh instances; everything is stopped by
/// process id when the test ends.
/// </summary>
public sealed class HAProxyFixture : IAsyncDisposable
{
    public static readonly string[] Servers = ["ej1", "ej2", "ej3"];

    private readonly List<HAProxyInstance> _instances = [];

    public HAProxyFixture()
    {
        Folder = Directory.CreateTempSubdirectory("ru-haproxy-").FullName;
        Backends = new BackendServers(Servers.Select((s, i) => (s, $"127.0.0.{11 + i}")).ToList());
        try
        {
            Primary = Add("a");
        }
        catch
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public string Folder { get; }

    public BackendServers Backends { get; }

    public HAProxyInstance Primary { get; }

    public HAProxyInstance Add(string name, string level = "admin")
    {
        var instance = new HAProxyInstance(Folder, name, Backends, Servers, level);
        _instances.Add(instance);
        return instance;
    }

    /// <summary>An instance whose http backend calls some servers by other names (<c>ej3</c> there is <c>ej-3</c>).</summary>
    public HAProxyInstance AddRenamed(string name, IReadOnlyDictionary<string, string> httpNames)
    {
        var instance = new HAProxyInstance(
            Folder,
            name,
            Servers.Select((s, i) => (s, $"127.0.0.{11 + i}")).ToList(),
            Backends.TcpPort,
            Backends.HttpPort,
            xmppChecks: false,
            httpNames: httpNames
        );
        _instances.Add(instance);
        return instance;
    }

    public IReadOnlyList<NodeSpec> Nodes { get; } =
        Servers
            .Select(
                (s, i) =>
                    new NodeSpec(
                        $"n{i + 1}",
                        $"127.0.0.{11 + i}",
                        $"ejabberd{i + 1}@127.0.0.{11 + i}",
                        new Dictionary<string, string> { ["edge"] = s }
                    )
            )
            .ToList();

    public NodeSpec Node(string server) => Nodes.First(n => n.IdIn("edge") == server);

    public HAProxyLoadBalancer Adapter(params HAProxyInstance[] instances)
    {
        var sockets = (instances.Length == 0 ? [Primary] : instances).Select(i => i.SocketPath).ToList();
        return new HAProxyLoadBalancer(
            new LoadBalancerSpec(
                "edge",
                LoadBalancerKinds.HAProxy,
                new HAProxySettings(sockets, ["be_xmpp", "be_http"], TimeSpan.FromSeconds(5))
            )
        )
        {
            ReadyTimeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>Waits until HAProxy's checks see every server UP.</summary>
    public async Task WaitAllUpAsync(HAProxyLoadBalancer adapter)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var states = await adapter.ReadAsync(Nodes, CancellationToken.None);
            if (states.All(s => s.Healthy))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    "servers did not come up: "
                        + string.Join(", ", states.Select(s => $"{s.Node}={s.Healthy}"))
                        + "\n"
                        + Primary.Log
                );
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            instance.Dispose();
        }

        await Backends.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
