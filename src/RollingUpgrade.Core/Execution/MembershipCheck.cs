using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>Exact membership: the running db nodes equal the expected set; nothing stopped, missing or extra.</summary>
public static class MembershipCheck
{
    /// <summary>Null when exact; otherwise the missing, extra and stopped nodes by name.</summary>
    public static string? Compare(Membership membership, IReadOnlyCollection<string> expected)
    {
        ArgumentNullException.ThrowIfNull(membership);
        var running = membership.Running.ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(e => !running.Contains(e)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var extra = running.Where(r => !expected.Contains(r)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var stopped = membership.Stopped.OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && extra.Count == 0 && stopped.Count == 0)
        {
            return null;
        }

        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add($"missing {string.Join(", ", missing)}");
        }

        if (extra.Count > 0)
        {
            parts.Add($"extra {string.Join(", ", extra)}");
        }

        if (stopped.Count > 0)
        {
            parts.Add($"stopped {string.Join(", ", stopped)}");
        }

        return $"running db nodes are [{string.Join(", ", membership.Running)}]: {string.Join("; ", parts)}";
    }
}
