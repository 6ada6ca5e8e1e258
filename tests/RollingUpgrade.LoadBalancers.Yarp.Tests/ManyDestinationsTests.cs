using System.Net;
using System.Net.Sockets;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Tests;

/// <summary>A cluster of hundreds of destinations, as a large XMPP cluster behind the embedded proxy has.</summary>
public sealed class ManyDestinationsTests
{
    [Fact(Timeout = 60_000)]
    public async Task Each_of_300_equally_weighted_destinations_serves_and_their_shares_add_up_to_100()
    {
        // 300 destinations, all pointing at one listener of this test (their health checks pass).
        const int count = 300;
        using var node = new TcpListener(IPAddress.Parse("127.0.0.38"), 0);
        node.Start(512);
        using var stop = new CancellationTokenSource();
        var accepting = AcceptAsync(node, stop.Token);
        var port = ((IPEndPoint)node.LocalEndpoint).Port;
        var admin = LoopbackPorts.Free();
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, admin), null),
            [
                new ClusterOptions(
                    "big",
                    Enumerable
                        .Range(1, count)
                        .Select(i => new DestinationOptions($"n{i}", "127.0.0.38", null, port, 100))
                        .ToList(),
                    TimeSpan.FromMilliseconds(500)
                ),
            ],
            [new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "big")]
        );
        await using var proxy = EmbeddedProxy.Build(options, null, null);
        await proxy.StartAsync();
        using var lb = new YarpLoadBalancer(
            new LoadBalancerSpec(
                "proxy",
                LoadBalancerKinds.Yarp,
                new YarpSettings($"http://127.0.0.1:{admin}/", "big", null)
            )
        );
        var nodes = Enumerable
            .Range(1, count)
            .Select(i => new NodeSpec(
                $"n{i}",
                "127.0.0.38",
                $"n{i}@host",
                new Dictionary<string, string> { ["proxy"] = $"n{i}" }
            ))
            .ToList();

        try
        {
            var states = await lb.ReadAsync(nodes, CancellationToken.None);

            // Each has a third of a percent: serving (a share rounded to whole percents was 0, so not serving).
            states.Count.ShouldBe(count);
            states.ShouldAllBe(s => s.IsServing);
            states.ShouldAllBe(s => s.TrafficPercent > 0.3 && s.TrafficPercent < 0.4);
            states.Sum(s => s.TrafficPercent!.Value).ShouldBe(100, tolerance: 0.001);
        }
        finally
        {
            await stop.CancelAsync();
            node.Stop();
            await accepting;
        }
    }

    /// <summary>Accepts and closes connections (the proxy's health checks) until stopped.</summary>
    private static async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptSocketAsync(stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }
}
