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
        // Per request: no lock, and no allocation for up to 32 destinations; each weight is read once.
        var count = availableDestinations.Count;
        Span<int> weights = count <= 32 ? stackalloc int[count] : new int[count];
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            weights[i] = WeightOf(cluster.ClusterId, availableDestinations[i]);
            total += weights[i];
        }

        if (total <= 0)
        {
            return null;
        }

        var roll = Random.Shared.Next(total);
        for (var i = 0; i < count; i++)
        {
            roll -= weights[i];
            if (roll < 0)
            {
                return availableDestinations[i];
            }
        }

        return null; // Not reached: the rolls add up to the total.
    }

    private int WeightOf(string cluster, DestinationState destination) =>
        registry.Find(cluster, destination.DestinationId) is { Available: true } runtime ? runtime.Weight : 0;
}
