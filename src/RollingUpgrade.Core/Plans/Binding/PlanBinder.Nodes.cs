using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private readonly Dictionary<NodeSpec, Plans.Toml.SourceLocation> _nodeLocations = new(
        ReferenceEqualityComparer.Instance
    );

    public IReadOnlyDictionary<NodeSpec, Plans.Toml.SourceLocation> NodeLocations => _nodeLocations;

    /// <summary>How many [[nodes]] the file declares, valid or not (the capacity rule counts them all).</summary>
    public int DeclaredNodes { get; private set; }

    private List<NodeSpec> BindNodes(IReadOnlyList<TableCursor> tables, bool blue = false)
    {
        if (blue)
        {
            DeclaredNodes = tables.Count;
        }

        var nodes = new List<NodeSpec>();
        foreach (var table in tables)
        {
            var name = Checked(table, "name", ValueRules.Name, required: true);
            var host = Checked(table, "host", ValueRules.Host, required: true);
            var erlang = Checked(table, "erlang_node", ValueRules.ErlangNode, required: true);
            var sshPort = table.Integer("ssh_port", min: 1, max: 65535);
            var ids = table.StringMap(
                "lb_ids",
                ValueRules.ServerId,
                "the node's server id in that load balancer: letters, digits and '_', '.', ':', '/', '-'"
            );
            var vars = table.StringMap(
                "vars",
                v => v.Any(char.IsControl) ? "control character" : null,
                "a string without control characters"
            );
            table.RejectUnknownKeys();
            if (name is not null && host is not null && erlang is not null)
            {
                var node = new NodeSpec(name, host, erlang, ids) { SshPort = (int?)sshPort, Vars = vars };
                _nodeLocations[node] = table.Location;
                nodes.Add(node);
            }
        }

        return nodes;
    }
}
