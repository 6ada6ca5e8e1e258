using Microsoft.Extensions.Logging;

namespace RollingUpgrade.LoadBalancers.Yarp;

/// <summary>Diagnostic log of the embedded proxy's adapter (3100-3199) and of the proxy itself (3300-3399).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(
        EventId = 3100,
        Level = LogLevel.Debug,
        Message = "proxy admin API {Method} {Path} -> {Status} in {ElapsedMs} ms"
    )]
    public static partial void AdminCall(ILogger logger, string method, string path, int status, long elapsedMs);

    [LoggerMessage(
        EventId = 3300,
        Level = LogLevel.Information,
        Message = "proxy started: admin API on {Admin}; listeners {Listeners}"
    )]
    public static partial void Started(ILogger logger, string admin, string listeners);

    [LoggerMessage(
        EventId = 3301,
        Level = LogLevel.Warning,
        Message = "TCP listener for cluster {Cluster}: cannot connect to {Destination} ({Address}): {Reason}"
    )]
    public static partial void UpstreamRefused(
        ILogger logger,
        string cluster,
        string destination,
        string address,
        string reason
    );

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "admin API {Method} {Path} -> {Status}")]
    public static partial void AdminServed(ILogger logger, string method, string path, int status);

    [LoggerMessage(
        EventId = 3303,
        Level = LogLevel.Warning,
        Message = "TCP listener for cluster {Cluster}: no destination took the connection"
    )]
    public static partial void NoDestination(ILogger logger, string cluster);

    [LoggerMessage(
        EventId = 3304,
        Level = LogLevel.Warning,
        Message = "HTTP listener for cluster {Cluster}: no destination takes new requests; answered 503"
    )]
    public static partial void NoHttpDestination(ILogger logger, string cluster);
}
