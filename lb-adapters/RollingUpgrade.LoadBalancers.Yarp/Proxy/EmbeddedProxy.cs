using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The embedded load balancer: YARP for HTTP/1.1 and WebSocket routes, Kestrel connection
/// handling for plain TCP listeners, one destination model per cluster shared by both, and the
/// admin API on its own endpoint.
/// </summary>
public sealed class EmbeddedProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ProxyOptions _options;

    private EmbeddedProxy(WebApplication app, ProxyRegistry registry, ProxyOptions options)
    {
        _app = app;
        Registry = registry;
        _options = options;
    }

    public ProxyRegistry Registry { get; }

    /// <param name="logging">
    /// Where the proxy logs (startup, listener errors, admin API calls); null keeps it silent,
    /// as when the demo embeds it. ASP.NET's own categories are kept to warnings.
    /// </param>
    /// <param name="metricsListen">
    /// Where to serve <c>/metrics</c> alone, without the admin token (the admin listener serves it too, behind it).
    /// </param>
    public static EmbeddedProxy Build(
        ProxyOptions options,
        string? token = null,
        ILoggerFactory? logging = null,
        System.Net.IPEndPoint? metricsListen = null
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        var registry = new ProxyRegistry(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            // Through a provider, so the host's filters apply. The hosting diagnostics logger is off: while it is
            // enabled ASP.NET starts an Activity for every request, which HttpClient then carries to the node (a
            // child Activity and trace headers per request: about a tenth of the proxy's throughput).
            builder.Logging.AddProvider(new ForwardingLoggerProvider(logging));
            builder
                .Logging.AddFilter("Microsoft", LogLevel.Warning)
                .AddFilter("Yarp", LogLevel.Warning)
                .AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        }

        var tcpLog = (logging ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger(
            "RollingUpgrade.Proxy.Tcp"
        );
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.Admin.Listen);
            if (metricsListen is not null)
            {
                kestrel.Listen(metricsListen);
            }

            foreach (var listener in options.Listeners)
            {
                if (listener.Kind == ListenerKind.Http)
                {
                    // Cleartext: HTTP/2 would need TLS to be offered beside HTTP/1.1 (Kestrel warned at every start
                    // that it served HTTP/1.1 only).
                    kestrel.Listen(
                        listener.Listen,
                        l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1
                    );
                }
                else
                {
                    var cluster = listener.Cluster;
                    kestrel.Listen(
                        listener.Listen,
                        l => l.Run(connection => new TcpProxy(registry, tcpLog).HandleAsync(connection, cluster))
                    );
                }
            }
        });
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<IAvailableDestinationsPolicy, DrainAwareDestinationsPolicy>();
        builder.Services.AddSingleton<ILoadBalancingPolicy, WeightedLoadBalancingPolicy>();
        builder.Services.AddHostedService<HealthProbe>();
        builder.Services.AddReverseProxy().LoadFromMemory(Routes(options), Clusters(options));
        var app = builder.Build();
        registry.Lookup = app.Services.GetRequiredService<IProxyStateLookup>();
        registry.Updater = app.Services.GetRequiredService<IClusterDestinationsUpdater>();
        AdminApi.Map(app, registry, options.Admin.Listen.Port, token, metricsListen?.Port);
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.Use(TrackAsync);
            pipeline.UsePassiveHealthChecks();
        });
        return new EmbeddedProxy(app, registry, options);

        async Task TrackAsync(HttpContext context, Func<Task> next)
        {
            var feature = context.GetReverseProxyFeature();
            var chosen = feature.AvailableDestinations.Count == 1 ? feature.AvailableDestinations[0] : null;
            var runtime = chosen is null ? null : registry.Find(feature.Cluster.Config.ClusterId, chosen.DestinationId);
            using var registration = runtime?.Track(context.Abort);
            if (runtime is not null)
            {
                context.Request.Body = new CountingStream(context.Request.Body, runtime);
                context.Response.Body = new CountingStream(context.Response.Body, runtime);
                if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>() is { } upgrade)
                {
                    context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>(
                        new CountingUpgradeFeature(upgrade, runtime)
                    );
                }
            }

            await next().ConfigureAwait(false);
            if (context.Response.StatusCode >= 500)
            {
                runtime?.CountError();
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var log = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RollingUpgrade.Proxy");
        ProxyLog.Started(
            log,
            _options.Admin.Listen.ToString(),
            string.Join(
                ", ",
                _options.Listeners.Select(l => $"{l.Kind.ToString().ToLowerInvariant()} {l.Listen} -> {l.Cluster}")
            )
        );
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) =>
        Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    private static List<RouteConfig> Routes(ProxyOptions options) =>
        options
            .Listeners.Where(l => l.Kind == ListenerKind.Http)
            .Select(
                (l, i) =>
                    new RouteConfig
                    {
                        RouteId = $"listener-{i + 1}",
                        ClusterId = l.Cluster,
                        Match = new RouteMatch { Path = "{**catch-all}", Hosts = [$"*:{l.Listen.Port}"] },
                    }
            )
            .ToList();

    private static List<ClusterConfig> Clusters(ProxyOptions options) =>
        options
            .Clusters.Select(c => new ClusterConfig
            {
                ClusterId = c.Name,
                LoadBalancingPolicy = WeightedLoadBalancingPolicy.PolicyName,
                HealthCheck = new HealthCheckConfig
                {
                    AvailableDestinationsPolicy = DrainAwareDestinationsPolicy.PolicyName,
                },
                Destinations = c
                    .Destinations.Where(d => d.HttpPort is not null)
                    .ToDictionary(
                        d => d.Name,
                        d => new DestinationConfig { Address = $"http://{d.Host}:{d.HttpPort}/" },
                        StringComparer.Ordinal
                    ),
            })
            .ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
