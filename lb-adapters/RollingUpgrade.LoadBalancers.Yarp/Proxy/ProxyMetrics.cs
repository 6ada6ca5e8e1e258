using Microsoft.AspNetCore.Http;
using Prometheus;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The proxy's own metrics in Prometheus text format on its admin listener (<c>GET /metrics</c>), per cluster and
/// destination: live connections, requests and sessions proxied, bytes each way, errors, health, availability,
/// weight and admin state, read from the registry at each scrape.
/// </summary>
internal sealed class ProxyMetrics
{
    private static readonly string[] Labels = ["cluster", "destination"];

    private readonly ProxyRegistry _registry;
    private readonly CollectorRegistry _collectors = Metrics.NewCustomRegistry();
    private readonly Gauge _live;
    private readonly Counter _total;
    private readonly Counter _errors;
    private readonly Gauge _healthy;
    private readonly Gauge _available;
    private readonly Gauge _weight;
    private readonly Gauge _state;
    private readonly Counter _bytes;

    public ProxyMetrics(ProxyRegistry registry)
    {
        _registry = registry;
        var factory = Metrics.WithCustomRegistry(_collectors);
        _live = factory.CreateGauge(
            "rollingupgrade_proxy_live_connections",
            "Connections and requests in flight through the destination now.",
            Labels
        );
        _total = factory.CreateCounter(
            "rollingupgrade_proxy_sessions_total",
            "HTTP requests, WebSocket and TCP sessions proxied to the destination.",
            Labels
        );
        _errors = factory.CreateCounter(
            "rollingupgrade_proxy_errors_total",
            "Failed connections and 5xx answers from the destination.",
            Labels
        );
        _healthy = factory.CreateGauge(
            "rollingupgrade_proxy_healthy",
            "1 when the destination passes its health check.",
            Labels
        );
        _available = factory.CreateGauge(
            "rollingupgrade_proxy_available",
            "1 when the destination takes new traffic (ready, healthy, weight above 0).",
            Labels
        );
        _weight = factory.CreateGauge("rollingupgrade_proxy_weight", "The destination's weight.", Labels);
        _state = factory.CreateGauge(
            "rollingupgrade_proxy_admin_state",
            "1 for the destination's admin state (ready, drain, maintenance).",
            [.. Labels, "state"]
        );
        _bytes = factory.CreateCounter(
            "rollingupgrade_proxy_bytes_total",
            "Bytes proxied for the destination: to_destination from clients, to_clients from it (bodies, TCP and "
                + "WebSocket data).",
            [.. Labels, "direction"]
        );
        _collectors.AddBeforeCollectCallback(Refresh);
    }

    public async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _collectors
            .CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted)
            .ConfigureAwait(false);
    }

    private void Refresh()
    {
        foreach (var cluster in _registry.Clusters)
        {
            foreach (var d in _registry.Destinations(cluster))
            {
                string[] labels = [cluster, d.Name];
                _live.WithLabels(labels).Set(d.Live);
                _total.WithLabels(labels).IncTo(d.Total);
                _errors.WithLabels(labels).IncTo(d.Errors);
                _healthy.WithLabels(labels).Set(d.Healthy ? 1 : 0);
                _available.WithLabels(labels).Set(d.Available ? 1 : 0);
                _weight.WithLabels(labels).Set(d.Weight);
                _bytes.WithLabels([.. labels, "to_destination"]).IncTo(d.BytesToDestination);
                _bytes.WithLabels([.. labels, "to_clients"]).IncTo(d.BytesToClients);
                foreach (var state in Enum.GetValues<DestinationAdminState>())
                {
                    _state.WithLabels([.. labels, state.ToString().ToLowerInvariant()]).Set(d.State == state ? 1 : 0);
                }
            }
        }
    }
}
