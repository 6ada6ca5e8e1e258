using System.Net;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>Three demo nodes on 127.0.0.31-33 behind the embedded proxy (HTTP, WebSocket and TCP listeners).</summary>
public sealed class ProxyFixture : IAsyncDisposable
{
    private readonly List<DemoNode> _nodes = [];

    private ProxyFixture(EmbeddedProxy proxy, ProxyOptions options)
    {
        Proxy = proxy;
        Options = options;
    }

    public EmbeddedProxy Proxy { get; }

    public ProxyOptions Options { get; }

    public int HttpPort => Options.Listeners.First(l => l.Kind == ListenerKind.Http).Listen.Port;

    public int TcpPort => Options.Listeners.First(l => l.Kind == ListenerKind.Tcp).Listen.Port;

    public string AdminUrl => $"http://127.0.0.1:{Options.Admin.Listen.Port}/";

    public IReadOnlyList<NodeSpec> Nodes { get; } =
        Enumerable
            .Range(1, 3)
            .Select(i => new NodeSpec(
                $"n{i}",
                $"127.0.0.{30 + i}",
                $"demo{i}@127.0.0.{30 + i}",
                new Dictionary<string, string> { ["proxy"] = $"n{i}" }
            ))
            .ToList();

    public static async Task<ProxyFixture> StartAsync(
        string? token = null,
        Microsoft.Extensions.Logging.ILoggerFactory? logging = null
    )
    {
        var addresses = Enumerable.Range(1, 3).Select(i => $"127.0.0.{30 + i}").ToArray();
        var http = LoopbackPorts.FreeOnAll(addresses);
        var tcp = LoopbackPorts.FreeOnAll(addresses);
        var options = new ProxyOptions(
            new AdminOptions(
                new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()),
                token is null ? null : "RU_PROXY_TOKEN"
            ),
            [
                new ClusterOptions(
                    "demo",
                    addresses.Select((a, i) => new DestinationOptions($"n{i + 1}", a, http, tcp, 100)).ToList(),
                    TimeSpan.FromMilliseconds(300)
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
        var fixture = new ProxyFixture(EmbeddedProxy.Build(options, token, logging), options);
        for (var i = 0; i < 3; i++)
        {
            var node = new DemoNode($"n{i + 1}", addresses[i], http, tcp, "1.0");
            await node.StartAsync();
            fixture._nodes.Add(node);
        }

        await fixture.Proxy.StartAsync();
        return fixture;
    }

    public DemoNode Node(string name) => _nodes.First(n => n.Name == name);

    /// <summary>Starts node <paramref name="name"/> again (after it was disposed) on its address and ports.</summary>
    public async Task RestartNodeAsync(string name)
    {
        var destination = Options.Clusters[0].Destinations.First(d => d.Name == name);
        var node = new DemoNode(name, destination.Host, destination.HttpPort!.Value, destination.TcpPort!.Value, "1.0");
        await node.StartAsync();
        _nodes[_nodes.FindIndex(n => n.Name == name)] = node;
    }

    public YarpLoadBalancer Adapter(string? tokenEnv = null, TimeSpan? readyTimeout = null) =>
        new(
            new LoadBalancerSpec(
                "proxy",
                LoadBalancerKinds.Yarp,
                new YarpSettings(AdminUrl, "demo", tokenEnv) { ReadyTimeout = readyTimeout ?? TimeSpan.FromSeconds(30) }
            )
        );

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
