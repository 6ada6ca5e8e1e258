using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Toml;
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
            var (ids, backendIds) = BindServerIds(table);
            var vars = table.StringMap(
                "vars",
                v => v.Any(char.IsControl) ? "control character" : null,
                "a string without control characters"
            );
            table.RejectUnknownKeys();
            if (name is not null && host is not null && erlang is not null)
            {
                var node = new NodeSpec(name, host, erlang, ids)
                {
                    SshPort = (int?)sshPort,
                    Vars = vars,
                    BackendIds = backendIds,
                };
                _nodeLocations[node] = table.Location;
                nodes.Add(node);
            }
        }

        return nodes;
    }

    /// <summary>
    /// <c>lb_ids</c>: per load balancer, the node's server id, or a table of backend = server id when the
    /// node has a different name in each backend.
    /// </summary>
    private (
        Dictionary<string, string> Ids,
        Dictionary<string, IReadOnlyDictionary<string, string>> PerBackend
    ) BindServerIds(TableCursor table)
    {
        const string Expected =
            "the node's server id in that load balancer (letters, digits and '_', '.', ':', '/', '-'), or a "
            + "table of backend = server id, such as { be_xmpp = \"mim3\", be_ws = \"mim-3\" }";
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var perBackend = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (table.Table("lb_ids") is not { } map)
        {
            return (ids, perBackend);
        }

        foreach (var entry in map.Entries())
        {
            if (entry.Value is TomlValueNode { Value: string id } && ValueRules.ServerId(id) is null)
            {
                ids[entry.Key] = id;
                continue;
            }

            if (entry.Value is not TomlTableNode || map.Table(entry.Key) is not { } backends)
            {
                sink.Error(entry.Value.Location, $"'{map.Describe(entry.Key)}' must be {Expected}");
                continue;
            }

            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var backend in backends.Entries())
            {
                if (backend.Value is TomlValueNode { Value: string name } && ValueRules.ServerId(name) is null)
                {
                    names[backend.Key] = name;
                }
                else
                {
                    sink.Error(
                        backend.Value.Location,
                        $"'{backends.Describe(backend.Key)}' must be the node's server id in backend '{backend.Key}': "
                            + "letters, digits and '_', '.', ':', '/', '-'"
                    );
                }
            }

            if (names.Count == 0)
            {
                sink.Error(
                    entry.Value.Location,
                    $"'{map.Describe(entry.Key)}' names no backend; write {{ <backend> = \"<server id>\", ... }} "
                        + "or one server id for every backend"
                );
                continue;
            }

            ids[entry.Key] = names.Values.First();
            perBackend[entry.Key] = names;
        }

        return (ids, perBackend);
    }
}
