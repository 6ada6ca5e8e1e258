namespace RollingUpgrade.Execution;

/// <summary>
/// The mnesia counterpart of a quorum check: before nodes stop, every table with a copy on one of them (ram, disc
/// or disc-only) must have a copy on a node that stays up, or it becomes unavailable until they are back (and a
/// ram-only table loses its content).
/// </summary>
public static class RedundancyCheck
{
    /// <summary>
    /// Per leaving node, the tables with no copy on any staying node, minus the ones the operator accepted. Nodes
    /// whose tables are unknown are left out.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> SoleCopies(
        IReadOnlyDictionary<string, IReadOnlyList<string>> localTables,
        IReadOnlyCollection<string> leaving,
        IReadOnlyCollection<string> staying,
        IReadOnlyCollection<string> accepted
    )
    {
        ArgumentNullException.ThrowIfNull(localTables);
        ArgumentNullException.ThrowIfNull(leaving);
        ArgumentNullException.ThrowIfNull(staying);
        ArgumentNullException.ThrowIfNull(accepted);
        var covered = staying
            .Where(n => !leaving.Contains(n))
            .SelectMany(n => localTables.GetValueOrDefault(n) ?? [])
            .ToHashSet(StringComparer.Ordinal);
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var node in leaving)
        {
            var sole = (localTables.GetValueOrDefault(node) ?? [])
                .Where(t => !covered.Contains(t) && !accepted.Contains(t))
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (sole.Count > 0)
            {
                result[node] = sole;
            }
        }

        return result;
    }

    /// <summary>Up to <paramref name="max"/> names, then how many more.</summary>
    public static string List(IReadOnlyList<string> names, int max = 8) =>
        names.Count <= max
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(max))} and {names.Count - max} more";
}
