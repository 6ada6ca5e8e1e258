using System.Globalization;

namespace RollingUpgrade.Execution;

/// <summary>What a run records about itself for the history and the audit trail.</summary>
internal static class Audit
{
    /// <summary>The account and machine running the tool: user@host.</summary>
    public static string DefaultOperator => $"{Environment.UserName}@{Environment.MachineName}";

    /// <summary>The run-started record: the plan (path, fingerprint and full text), versions, who and why.</summary>
    public static Dictionary<string, string> Started(RunContext context)
    {
        var data = new Dictionary<string, string>
        {
            ["plan"] = context.Plan.SourcePath,
            ["fingerprint"] = context.Plan.Fingerprint,
            ["strategy"] = context.Steps.Strategy,
            ["steps"] = context.Steps.Steps.Count.ToString(CultureInfo.InvariantCulture),
            ["cluster"] = context.Plan.Cluster.Name,
            ["to_version"] = context.Plan.Upgrade.TargetVersion,
            ["plan_text"] = context.Plan.SourceText,
            ["drain_timeout_s"] = context.Plan.Strategy.Drain.Timeout.TotalSeconds.ToString(
                CultureInfo.InvariantCulture
            ),
            ["eviction_rate"] = context.Plan.Strategy.Drain.AdaptivePace
                ? "auto"
                : context.Plan.Strategy.Drain.EvictionRate.ToString(CultureInfo.InvariantCulture),
            ["on_timeout"] = context.Plan.Strategy.Drain.OnTimeout.ToString().ToLowerInvariant(),
            ["nodes"] = string.Join(',', context.Plan.Nodes.Select(n => n.Name)),
            ["green_nodes"] = string.Join(',', context.Plan.GreenNodes.Select(n => n.Name)),
        };
        if (context.Plan.Cluster.Environment is { } environment)
        {
            data["environment"] = environment;
        }

        foreach (var (key, value) in Who(context))
        {
            data[key] = value;
        }

        return data;
    }

    /// <summary>The operator (user@host, pid) and the reason they gave, for a start, a resume or an override.</summary>
    public static Dictionary<string, string> Who(RunContext context)
    {
        var data = new Dictionary<string, string>
        {
            ["operator"] = context.Operator,
            ["pid"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        if (context.Reason is { } reason)
        {
            data["reason"] = reason;
        }

        return data;
    }
}
