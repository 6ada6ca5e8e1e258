using RollingUpgrade.Ports;

namespace RollingUpgrade.Plans.Model;

/// <summary>The one place where placeholder values are made.</summary>
public static class CommandValues
{
    /// <summary>The values for one node, given the version in force and what the run knows.</summary>
    public static IReadOnlyDictionary<string, string> For(
        Plan plan,
        NodeSpec node,
        string version,
        string fromVersion,
        string backupPath
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(node);
        var green = plan.GreenNodes.Contains(node);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["node"] = node.Name,
            ["host"] = node.Host,
            ["erlang_node"] = node.ErlangNode,
            ["version"] = version,
            ["from_version"] = fromVersion,
            ["config_path"] = plan.ConfigPathOf(node) ?? string.Empty,
            ["backup_path"] = backupPath,
            ["cluster"] = plan.Cluster.Name,
            ["seed_erlang_node"] = (green ? plan.GreenNodes[0] : plan.Nodes[0]).ErlangNode,
        };
        foreach (var (key, value) in node.Vars)
        {
            values["var." + key] = value;
        }

        return values;
    }

    /// <summary>
    /// Values outside a run (validate, plan, status): the target version, the plan's
    /// from_version, and no backup.
    /// </summary>
    public static ICommandValues BeforeRun(Plan plan) => new PlanValues(plan);

    private sealed class PlanValues(Plan plan) : ICommandValues
    {
        public IReadOnlyDictionary<string, string> For(NodeSpec node) =>
            CommandValues.For(
                plan,
                node,
                plan.Upgrade.TargetVersion,
                plan.Upgrade.FromVersion ?? string.Empty,
                string.Empty
            );
    }
}
