using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>The embedded proxy's configuration (TOML, same style as plans).</summary>
public sealed record ProxyOptions(
    AdminOptions Admin,
    IReadOnlyList<ClusterOptions> Clusters,
    IReadOnlyList<ListenerOptions> Listeners
);
