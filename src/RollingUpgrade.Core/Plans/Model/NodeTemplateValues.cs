namespace RollingUpgrade.Plans.Model;

/// <summary>The values a command template may use for one node.</summary>
public static class NodeTemplateValues
{
    public static Dictionary<string, string> For(Plan plan, NodeSpec node, string version, string? fromVersion = null, string? backupPath = null)
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
            ["from_version"] = fromVersion ?? plan.Upgrade.FromVersion ?? string.Empty,
            ["config_path"] = plan.ConfigPathOf(node) ?? string.Empty,
            ["backup_path"] = backupPath ?? string.Empty,
            ["cluster"] = plan.Cluster.Name,
            ["seed_erlang_node"] = (green ? plan.GreenNodes[0] : plan.Nodes[0]).ErlangNode,
        };
        foreach (var (key, value) in node.Vars)
        {
            values["var." + key] = value;
        }

        return values;
    }
}
