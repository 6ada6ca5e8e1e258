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
        var accepting = HealthIntervalTests.CountAsync(node, new int[1], stop.Token);
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

    [Fact(Timeout = 60_000)]
    public async Task A_node_that_is_down_is_seen_at_once_while_other_destinations_do_not_answer()
    {
        // 20 destinations whose host does not answer: a listener whose backlog is full and that never accepts (the
        // kernel drops further connects, as a black-holed host does), and after them one whose port refuses.
        using var silent = new TcpListener(IPAddress.Parse("127.0.0.39"), 0);
        silent.Start(1);
        var silentPort = ((IPEndPoint)silent.LocalEndpoint).Port;
        var filling = new List<TcpClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = new TcpClient();
            filling.Add(client);
            _ = client.ConnectAsync(IPAddress.Parse("127.0.0.39"), silentPort);
        }

        try
        {
            using (var probe = new TcpClient())
            using (var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
            {
                // The premise: a connect to it does not complete.
                await Should.ThrowAsync<OperationCanceledException>(async () =>
                    await probe.ConnectAsync(IPAddress.Parse("127.0.0.39"), silentPort, quick.Token)
                );
            }

            var admin = LoopbackPorts.Free();
            var destinations = Enumerable
                .Range(1, 20)
                .Select(i => new DestinationOptions($"s{i}", "127.0.0.39", null, silentPort, 100))
                .Append(new DestinationOptions("down", "127.0.0.38", null, LoopbackPorts.Free("127.0.0.38"), 100))
                .ToList();
            var options = new ProxyOptions(
                new AdminOptions(new IPEndPoint(IPAddress.Loopback, admin), null),
                [new ClusterOptions("big", destinations, TimeSpan.FromMilliseconds(300))],
                [new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "big")]
            );
            await using var proxy = EmbeddedProxy.Build(options, null, null);
            var started = System.Diagnostics.Stopwatch.StartNew();
            await proxy.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}/") };

            // Checked one after another, "down" came after 20 one-second timeouts; at once, in the first round.
            while (
                !(await http.GetStringAsync("v1/clusters/big")).Contains(
                    "\"name\":\"down\",\"state\":\"ready\",\"weight\":100,\"healthy\":false",
                    StringComparison.Ordinal
                )
            )
            {
                started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "the refused destination is still healthy");
                await Task.Delay(50);
            }
        }
        finally
        {
            filling.ForEach(c => c.Dispose());
            silent.Stop();
        }
    }
}
