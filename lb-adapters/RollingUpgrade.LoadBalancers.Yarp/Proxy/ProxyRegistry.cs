namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// Every cluster's destinations and their live state, shared by the HTTP and TCP listeners: each new request or
/// connection reads it, so a change made through the admin API applies to the next one.
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

    public IEnumerable<string> Clusters => _clusters.Keys;

    public IReadOnlyCollection<DestinationRuntime> Destinations(string cluster) =>
        _clusters.TryGetValue(cluster, out var d) ? d.Values : [];

    public DestinationRuntime? Find(string cluster, string destination) =>
        _clusters.TryGetValue(cluster, out var d) && d.TryGetValue(destination, out var runtime) ? runtime : null;

    /// <summary>
    /// Weighted random choice among the destinations that take new traffic (and pass <paramref name="filter"/>);
    /// null when none does.
    /// </summary>
    public DestinationRuntime? Pick(string cluster, Func<DestinationRuntime, bool>? filter = null) =>
        _clusters.TryGetValue(cluster, out var d)
            ? Pick(d.Values.Where(x => filter?.Invoke(x) ?? true).ToArray())
            : null;

    /// <summary>
    /// Weighted random choice among the given destinations that take new traffic; null when none does. Per HTTP
    /// request: no lock, and no allocation for up to 32 destinations; each one's availability and weight is read once.
    /// </summary>
    public static DestinationRuntime? Pick(DestinationRuntime[] destinations)
    {
        var count = destinations.Length;
        Span<int> weights = count <= 32 ? stackalloc int[count] : new int[count];
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            weights[i] = destinations[i].Available ? destinations[i].Weight : 0;
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
                return destinations[i];
            }
        }

        return null; // Not reached: the weights add up to the total.
    }
}
