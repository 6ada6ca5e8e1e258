using System.Net;
using System.Net.Sockets;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Tests;

/// <summary>Each cluster's destinations are checked at that cluster's <c>health_interval</c>.</summary>
public sealed class HealthIntervalTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_cluster_checked_every_5_s_is_not_checked_at_the_pace_of_one_checked_every_200_ms()
    {
        using var fastNode = new TcpListener(IPAddress.Parse("127.0.0.38"), 0);
        using var slowNode = new TcpListener(IPAddress.Parse("127.0.0.38"), 0);
        fastNode.Start();
        slowNode.Start();
        var fast = new int[1];
        var slow = new int[1];
        using var stop = new CancellationTokenSource();
        var accepting = Task.WhenAll(CountAsync(fastNode, fast, stop.Token), CountAsync(slowNode, slow, stop.Token));
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions("fast", [Destination("f1", fastNode)], TimeSpan.FromMilliseconds(200)),
                new ClusterOptions("slow", [Destination("s1", slowNode)], TimeSpan.FromSeconds(5)),
            ],
            [new ListenerOptions(ListenerKind.Tcp, new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), "fast")]
        );

        try
        {
            await using (var proxy = EmbeddedProxy.Build(options, null, null))
            {
                await proxy.StartAsync();
                await Task.Delay(TimeSpan.FromSeconds(2.5));
            }

            // 2.5 s: about 12 checks of the fast cluster, and the slow one's first (a second would be due at 5 s).
            Volatile.Read(ref fast[0]).ShouldBeGreaterThanOrEqualTo(5);
            Volatile.Read(ref slow[0]).ShouldBeInRange(1, 2);
        }
        finally
        {
            await stop.CancelAsync();
            fastNode.Stop();
            slowNode.Stop();
            await accepting;
        }
    }

    private static DestinationOptions Destination(string name, TcpListener node) =>
        new(name, "127.0.0.38", null, ((IPEndPoint)node.LocalEndpoint).Port, 100);

    /// <summary>Accepts, counts and closes connections (the proxy's health checks) until stopped.</summary>
    internal static async Task CountAsync(TcpListener listener, int[] count, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptSocketAsync(stop);
                Interlocked.Increment(ref count[0]);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }
}
