using System.Net.Sockets;
using Microsoft.Extensions.Hosting;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// Active health checks: a TCP connect to each destination's port, at its cluster's interval. The destinations of a
/// round are checked at once (at most <see cref="MostAtOnce"/> connects in flight): one after another, a destination
/// whose host does not answer (no refusal, the connect times out after a second) held up every check behind it, so
/// with a few such hosts a node that went down was noticed seconds late.
/// </summary>
internal sealed class HealthProbe(ProxyRegistry registry, ProxyOptions options) : BackgroundService
{
    private const int MostAtOnce = 64;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each cluster at its own interval: the loop wakes at the smallest, and checks the clusters that are due.
        var intervals = options.Clusters.ToDictionary(c => c.Name, c => c.HealthInterval, StringComparer.Ordinal);
        var tick = intervals.Count == 0 ? TimeSpan.FromSeconds(1) : intervals.Values.Min();
        var due = new Dictionary<string, long>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(MostAtOnce);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = Environment.TickCount64;
            var destinations = new List<DestinationRuntime>();
            foreach (var cluster in registry.Clusters.ToList())
            {
                if (due.TryGetValue(cluster, out var at) && now < at)
                {
                    continue;
                }

                due[cluster] = now + (long)intervals.GetValueOrDefault(cluster, tick).TotalMilliseconds;
                destinations.AddRange(registry.Destinations(cluster).ToList());
            }

            try
            {
                await Task.WhenAll(destinations.Select(d => CheckAsync(d, gate, stoppingToken))).ConfigureAwait(false);
                await Task.Delay(tick, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task CheckAsync(DestinationRuntime destination, SemaphoreSlim gate, CancellationToken stop)
    {
        await gate.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            destination.Healthy = await ProbeAsync(destination, stop).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<bool> ProbeAsync(DestinationRuntime destination, CancellationToken stoppingToken)
    {
        var port = destination.Options.TcpPort ?? destination.Options.HttpPort!.Value;
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await client.ConnectAsync(destination.Options.Host, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            stoppingToken.ThrowIfCancellationRequested();
            return false;
        }
    }
}
