namespace RollingUpgrade.Plans.Model;

/// <summary>HAProxy runtime API: one or more instances (an HA pair) changed together.</summary>
public sealed record HAProxySettings(IReadOnlyList<string> Sockets, IReadOnlyList<string> Backends, TimeSpan Timeout)
    : LoadBalancerSettings
{
    /// <summary>How long a server may take to pass its health check after being set ready.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
