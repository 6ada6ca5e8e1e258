using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private readonly Dictionary<NodeSpec, Plans.Toml.SourceLocation> _nodeLocations = new(ReferenceEqualityComparer.Instance);

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
            var ids = new Dictionary<string, string>(StringComparer.Ordinal);
            if (table.Table("lb_ids") is { } idTable)
            {
                foreach (var entry in idTable.Entries())
                {
                    if (entry.Value is Toml.TomlValueNode { Value: string id } && ValueRules.ServerId(id) is null)
                    {
                        ids[entry.Key] = id;
                    }
                    else
                    {
                        sink.Error(entry.Value.Location, $"'{idTable.Describe(entry.Key)}' must be the node's server id in load balancer '{entry.Key}', a string of letters, digits and '_', '.', ':', '/', '-'");
                    }
                }
            }

            var vars = new Dictionary<string, string>(StringComparer.Ordinal);
            if (table.Table("vars") is { } varTable)
            {
                foreach (var entry in varTable.Entries())
                {
                    if (entry.Value is Toml.TomlValueNode { Value: string value } && !value.Any(char.IsControl))
                    {
                        vars[entry.Key] = value;
                    }
                    else
                    {
                        sink.Error(entry.Value.Location, $"'{varTable.Describe(entry.Key)}' must be a string without control characters");
                    }
                }
            }

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
