namespace RollingUpgrade.Plans.Model;

/// <summary>The embedded proxy's admin API.</summary>
public sealed record YarpSettings(string AdminUrl, string Cluster, string? TokenEnv) : LoadBalancerSettings
{
    /// <summary>How long a destination set ready may take to pass the proxy's health check.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
