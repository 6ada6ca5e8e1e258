using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>The embedded proxy's configuration (TOML, same style as plans).</summary>
public sealed record ProxyOptions(AdminOptions Admin, IReadOnlyList<ClusterOptions> Clusters, IReadOnlyList<ListenerOptions> Listeners);

public sealed record AdminOptions(IPEndPoint Listen, string? TokenEnv)
{
    public bool IsLoopback => IPAddress.IsLoopback(Listen.Address);
}

public sealed record ClusterOptions(string Name, IReadOnlyList<DestinationOptions> Destinations, TimeSpan HealthInterval);

public sealed record DestinationOptions(string Name, string Host, int? HttpPort, int? TcpPort, int Weight);

public enum ListenerKind
{
    Http,
    Tcp,
}

public sealed record ListenerOptions(ListenerKind Kind, IPEndPoint Listen, string Cluster);
