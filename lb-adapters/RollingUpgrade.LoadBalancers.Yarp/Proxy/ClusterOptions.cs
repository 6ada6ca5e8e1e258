using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public sealed record ClusterOptions(
    string Name,
    IReadOnlyList<DestinationOptions> Destinations,
    TimeSpan HealthInterval
);
