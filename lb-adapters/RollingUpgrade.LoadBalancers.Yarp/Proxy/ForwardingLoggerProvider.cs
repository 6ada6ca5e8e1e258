using Microsoft.Extensions.Logging;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>Hands the proxy host's loggers to the caller's factory (which the caller owns and disposes).</summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

    public void Dispose() { }
}
