using System.Net.Sockets;
using Microsoft.Extensions.Hosting;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>Active health checks: a TCP connect to each destination's port, every cluster's interval.</summary>
internal sealed class HealthProbe(ProxyRegistry registry, ProxyOptions options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval =
            options.Clusters.Count == 0 ? TimeSpan.FromSeconds(1) : options.Clusters.Min(c => c.HealthInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var cluster in registry.Clusters.ToList())
            {
                foreach (var destination in registry.Destinations(cluster))
                {
                    var healthy = await ProbeAsync(destination, stoppingToken).ConfigureAwait(false);
                    destination.Healthy = healthy;
                }
            }

            try
            {
                await Task.Delay(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<bool> ProbeAsync(DestinationRuntime destination, CancellationToken stoppingToken)
    {
        var port = destination.Options.TcpPort ?? destination.Options.HttpPort!.Value;
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(destination.Options.Host, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
