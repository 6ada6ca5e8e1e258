using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// YARP's available destinations are ours: ready, healthy, weight above zero. Unlike YARP's
/// default there is no panic mode: with nothing available, requests get 503 instead of a drained node.
/// </summary>
internal sealed class DrainAwareDestinationsPolicy(ProxyRegistry registry) : IAvailableDestinationsPolicy
{
    public const string PolicyName = "RollingUpgradeDrainAware";

    public string Name => PolicyName;

    public IReadOnlyList<DestinationState> GetAvailalableDestinations(
        ClusterConfig config,
        IReadOnlyList<DestinationState> allDestinations
    ) => allDestinations.Where(d => registry.Find(config.ClusterId, d.DestinationId)?.Available ?? false).ToList();
}

/// <summary>Weighted random choice by the weights set through the admin API (YARP has no weights of its own).</summary>
internal sealed class WeightedLoadBalancingPolicy(ProxyRegistry registry) : ILoadBalancingPolicy
{
    public const string PolicyName = "RollingUpgradeWeighted";

    public string Name => PolicyName;

    public DestinationState? PickDestination(
        HttpContext context,
        ClusterState cluster,
        IReadOnlyList<DestinationState> availableDestinations
    )
    {
        var ids = availableDestinations.Select(d => d.DestinationId).ToHashSet(StringComparer.Ordinal);
        var chosen = registry.Pick(cluster.ClusterId, d => ids.Contains(d.Name));
        return chosen is null ? null : availableDestinations.First(d => d.DestinationId == chosen.Name);
    }
}
