namespace RollingUpgrade.Execution;

/// <summary>
/// Which nodes a journal record names when a cluster is too large to name them all: those whose count changed the
/// most between two readings (drain samples, takeover records), so that the record stays short and still shows
/// where clients went.
/// </summary>
internal static class MostChanged
{
    /// <summary>
    /// At most <paramref name="most"/> nodes, by how much their count moved from <paramref name="before"/> to
    /// <paramref name="after"/> (largest first, then by name), leaving out those that did not move; with no earlier
    /// reading, the largest counts.
    /// </summary>
    public static HashSet<string> Nodes(
        IReadOnlyDictionary<string, long>? before,
        IReadOnlyDictionary<string, long> after,
        int most
    ) =>
        (before is null ? after.Keys : after.Keys.Union(before.Keys, StringComparer.Ordinal))
            .Select(node =>
                (
                    Node: node,
                    Weight: before is null
                        ? after[node]
                        : Math.Abs(after.GetValueOrDefault(node) - before.GetValueOrDefault(node))
                )
            )
            .Where(p => before is null || p.Weight > 0)
            .OrderByDescending(p => p.Weight)
            .ThenBy(p => p.Node, StringComparer.Ordinal)
            .Take(most)
            .Select(p => p.Node)
            .ToHashSet(StringComparer.Ordinal);
}
