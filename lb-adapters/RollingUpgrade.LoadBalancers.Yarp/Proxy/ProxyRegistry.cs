using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// Every cluster's destinations and their live state, shared by the HTTP routes (through YARP's
/// policies) and the TCP listeners. A change is pushed into YARP and confirmed from YARP's own
/// view of available destinations before it is reported as done.
/// </summary>
public sealed class ProxyRegistry
{
    private readonly Dictionary<string, Dictionary<string, DestinationRuntime>> _clusters;

    public ProxyRegistry(ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clusters = options.Clusters.ToDictionary(
            c => c.Name,
            c =>
                c.Destinations.ToDictionary(
                    d => d.Name,
                    d => new DestinationRuntime(c.Name, d),
                    StringComparer.Ordinal
                ),
            StringComparer.Ordinal
        );
    }

    /// <summary>Set once the web host is built; lets changes be applied to YARP and read back.</summary>
    public IProxyStateLookup? Lookup { get; set; }

    public IClusterDestinationsUpdater? Updater { get; set; }

    public IEnumerable<string> Clusters => _clusters.Keys;

    public IReadOnlyCollection<DestinationRuntime> Destinations(string cluster) =>
        _clusters.TryGetValue(cluster, out var d) ? d.Values : [];

    public DestinationRuntime? Find(string cluster, string destination) =>
        _clusters.TryGetValue(cluster, out var d) && d.TryGetValue(destination, out var runtime) ? runtime : null;

    /// <summary>Weighted random choice among the destinations that take new traffic.</summary>
    public DestinationRuntime? Pick(string cluster, Func<DestinationRuntime, bool>? filter = null)
    {
        var candidates = Destinations(cluster).Where(d => d.Available && (filter?.Invoke(d) ?? true)).ToList();
        var total = candidates.Sum(d => d.Weight);
        if (total <= 0)
        {
            return null;
        }

        var roll = Random.Shared.Next(total);

        foreach (var candidate in candidates)
        {
            roll -= candidate.Weight;
            if (roll < 0)
            {
                return candidate;
            }
        }

        return candidates[^1];
    }

    /// <summary>
    /// Re-runs YARP's available-destination policy for the cluster and checks the result matches ours.
    /// </summary>
    public bool ApplyAndConfirm(string cluster)
    {
        if (Lookup is null || Updater is null || !Lookup.TryGetCluster(cluster, out var state))
        {
            return true; // No HTTP route uses this cluster: the TCP listeners read the registry directly.
        }

        Updater.UpdateAvailableDestinations(state);
        var available = state
            .DestinationsState.AvailableDestinations.Select(d => d.DestinationId)
            .ToHashSet(StringComparer.Ordinal);
        return Destinations(cluster)
            .Where(d => d.Options.HttpPort is not null)
            .All(d => available.Contains(d.Name) == d.Available);
    }
}
