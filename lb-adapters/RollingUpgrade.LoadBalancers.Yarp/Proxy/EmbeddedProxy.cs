using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The embedded load balancer: YARP's forwarder for HTTP/1.1 and WebSocket listeners, Kestrel connection
/// handling for plain TCP listeners, one destination model per cluster shared by both, and the
/// admin API on its own endpoint.
/// </summary>
public sealed class EmbeddedProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ProxyOptions _options;
    private readonly HttpMessageInvoker _client;

    private EmbeddedProxy(WebApplication app, ProxyRegistry registry, ProxyOptions options, HttpMessageInvoker client)
    {
        _app = app;
        _client = client;
        Registry = registry;
        _options = options;
    }

    public ProxyRegistry Registry { get; }

    /// <summary>The .NET runtime switch that runs socket continuations on the threads reading socket events.</summary>
    public const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

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
        // Configured by its options alone: no appsettings.json from the working directory (nor a watcher on it), no
        // ASPNETCORE_* variables adding listeners or changing Kestrel.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
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
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) == "1")
        {
            // The operator had the runtime run socket continuations where socket events are read: Kestrel then handles
            // requests and sends responses there too, instead of queueing both to the thread pool (about one work item
            // per request). Measured (docs/benchmarks.md): more throughput while other processes compete for the
            // cores, less when the proxy has them; the runtime's switch alone was slower than neither.
            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

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
        builder.Services.AddHostedService<HealthProbe>();
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        // The client YARP's routes would use (no proxy, redirects, decompression or cookies; connections pooled).
        var client = new ForwarderHttpClientFactory().CreateClient(
            new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty }
        );
        var forwarding = new HttpForwarding(
            options,
            registry,
            app.Services.GetRequiredService<IHttpForwarder>(),
            client,
            app.Services.GetRequiredService<ILoggerFactory>()
        );

        // Requests on the HTTP listeners are forwarded before routing; routing serves the admin and metrics ones.
        app.Use(forwarding.Middleware);
        app.UseRouting();
        AdminApi.Map(app, registry, options.Admin.Listen.Port, token, metricsListen?.Port);
        return new EmbeddedProxy(app, registry, options, client);
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _client.Dispose(); // its pooled connections to the nodes
    }
}
