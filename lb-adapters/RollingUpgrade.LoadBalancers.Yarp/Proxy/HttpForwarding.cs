using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The HTTP listeners: each request goes to a destination picked by weight among those of the listener's cluster that
/// take new traffic, through YARP's forwarder (HTTP/1.1 and WebSocket upgrades, <c>X-Forwarded-*</c> headers), and is
/// tracked so it can be counted and evicted. With no destination available the answer is 503.
/// </summary>
/// <remarks>
/// YARP's forwarder is called directly, without its routes and per-request pipeline: the listener the request came in
/// on names the cluster, and the choice reads the registry the admin API writes, so a change applies to the next
/// request. That pipeline (endpoint routing, per-request proxy feature, available-destination lists) cost up to a
/// quarter of the proxy's CPU per request (paired rounds, docs/benchmarks.md) and gave nothing used here.
/// </remarks>
internal sealed class HttpForwarding
{
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    /// <summary>The category of its warnings (per request, so written at most once in a while).</summary>
    public const string LogCategory = "RollingUpgrade.Proxy.Http";

    private readonly Listener[] _listeners;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ILogger _log;

    public HttpForwarding(
        ProxyOptions options,
        ProxyRegistry registry,
        IHttpForwarder forwarder,
        HttpMessageInvoker client,
        ILoggerFactory logging
    )
    {
        _listeners = options
            .Listeners.Where(l => l.Kind == ListenerKind.Http)
            .Select(l => new Listener(
                l.Listen,
                l.Cluster,
                registry.Destinations(l.Cluster).Where(d => d.Options.HttpPort is not null).ToArray()
            ))
            .ToArray();
        _forwarder = forwarder;
        _client = client;
        _log = logging.CreateLogger(LogCategory);
    }

    /// <summary>Middleware: forwards requests that came in on an HTTP listener, passes the others on.</summary>
    public RequestDelegate Middleware(RequestDelegate next) =>
        context => For(context.Connection) is { } listener ? ForwardAsync(context, listener) : next(context);

    /// <summary>The listener the connection came in on; null for the admin and metrics ones.</summary>
    private Listener? For(ConnectionInfo connection)
    {
        var port = connection.LocalPort;
        var address = connection.LocalIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        foreach (var listener in _listeners)
        {
            var listen = listener.Listen;
            if (
                listen.Port == port
                && (
                    listen.Address.Equals(IPAddress.Any)
                    || listen.Address.Equals(IPAddress.IPv6Any)
                    || listen.Address.Equals(address)
                )
            )
            {
                return listener;
            }
        }

        return null;
    }

    private async Task ForwardAsync(HttpContext context, Listener listener)
    {
        var destination = ProxyRegistry.Pick(listener.Destinations);
        if (destination is null)
        {
            ProxyLog.NoHttpDestination(_log, listener.Cluster);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        using var registration = destination.Track(context.Abort);
        context.Request.Body = new CountingStream(context.Request.Body, destination);
        context.Response.Body = new CountingStream(context.Response.Body, destination);
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new CountingUpgradeFeature(upgrade, destination));
        }

        await _forwarder
            .SendAsync(context, destination.HttpPrefix!, _client, RequestConfig, HttpTransformer.Default)
            .ConfigureAwait(false);
        if (context.Response.StatusCode >= 500)
        {
            destination.CountError();
        }
    }

    private sealed record Listener(IPEndPoint Listen, string Cluster, DestinationRuntime[] Destinations);
}
