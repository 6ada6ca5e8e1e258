using System.Net;
using System.Net.Sockets;
using Prometheus;

namespace RollingUpgrade.Cli.Metrics;

/// <summary>
/// <c>--metrics-listen</c>: a run's metrics served at <c>http://ADDR:PORT/metrics</c> (prometheus-net's own HTTP
/// server) for as long as the command runs.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private readonly MetricServer _server;

    private MetricsEndpoint(MetricServer server, RunMetrics metrics, string url)
    {
        _server = server;
        Metrics = metrics;
        Url = url;
    }

    public RunMetrics Metrics { get; }

    public string Url { get; }

    /// <summary>The endpoint serving, or null and why it could not start (bad address, port taken).</summary>
    public static (MetricsEndpoint? Endpoint, string? Problem) Start(string listen, Plans.Model.Plan plan)
    {
        var (endPoint, problem) = ListenAddress.Parse(listen);
        if (endPoint is null)
        {
            return (null, $"--metrics-listen '{listen}': {problem}");
        }

        var host =
            endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? "+"
            : endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]"
            : endPoint.Address.ToString();
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new RunMetrics(plan, registry);
        var server = new MetricServer(host, endPoint.Port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch (HttpListenerException e)
        {
            server.Dispose();
            return (null, $"--metrics-listen {listen}: cannot listen there ({e.Message}); choose a free port");
        }

        return (new MetricsEndpoint(server, metrics, $"http://{host}:{endPoint.Port}/metrics"), null);
    }

    public void Dispose() => _server.Dispose();
}
