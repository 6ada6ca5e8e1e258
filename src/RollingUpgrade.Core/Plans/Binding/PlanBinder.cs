using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Toml;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

/// <summary>
/// Turns the located TOML tree into a <see cref="Plan"/>, reporting every unknown key, wrong
/// type, missing field and malformed value on the way. Cross-field rules run afterwards in
/// <see cref="PlanRules"/>.
/// </summary>
internal sealed partial class PlanBinder(DiagnosticSink sink)
{
    private static readonly string[] DefaultPlaceholderScope = [.. CommandTemplate.KnownPlaceholders];

    public Plan? Bind(TomlTableNode root, string path, string fingerprint, string text)
    {
        var top = new TableCursor(root, string.Empty, sink);
        var cluster = BindCluster(top.Table("cluster", required: true));
        var loadBalancers = BindLoadBalancers(top);
        var nodes = BindNodes(top.TableArray("nodes", required: true), blue: true);
        var access = BindAccess(top.Table("access", required: true));
        var product = BindProduct(top.Table("product", required: true));
        var upgrade = BindUpgrade(top.Table("upgrade", required: true));
        var strategy = BindStrategy(top.Table("strategy", required: true));
        var gates = BindGates(top);
        var rollback = BindRollback(top.Table("rollback"));
        var state = BindState(top.Table("state"));
        var notify = BindNotify(top);
        top.RejectUnknownKeys();

        if (cluster is null || access is null || product is null || upgrade is null || strategy is null)
        {
            return null;
        }

        return new Plan
        {
            SourcePath = path,
            Fingerprint = fingerprint,
            SourceText = text,
            Cluster = cluster,
            Nodes = nodes,
            Access = access,
            Product = product,
            LoadBalancers = loadBalancers,
            Upgrade = upgrade,
            Strategy = strategy,
            Gates = gates,
            Rollback = rollback,
            State = state,
            Notify = notify,
            Locations = new Dictionary<string, SourceLocation>(sink.Locations, StringComparer.Ordinal),
        };
    }

    private ClusterSpec? BindCluster(TableCursor? table)
    {
        if (table is null)
        {
            return null;
        }

        var name = Checked(table, "name", ValueRules.Name, required: true);
        var environment = Checked(table, "environment", ValueRules.Name);
        var staging = Checked(table, "requires_staging", ValueRules.Name);
        var maxAge = table.Duration("staging_max_age", positive: true);
        if (staging is not null && staging == name)
        {
            sink.Error(
                table.LocationOf("requires_staging"),
                $"'cluster.requires_staging' names this cluster itself ('{name}'); name the staging cluster"
            );
        }

        if (maxAge is not null && staging is null)
        {
            sink.Error(
                table.LocationOf("staging_max_age"),
                "'cluster.staging_max_age' needs 'cluster.requires_staging' (the staging cluster it applies to)"
            );
        }

        table.RejectUnknownKeys();
        return name is null ? null : new ClusterSpec(name, environment, staging, maxAge);
    }

    private static RollbackPolicy BindRollback(TableCursor? table)
    {
        if (table is null)
        {
            return RollbackPolicy.Halt;
        }

        var policy = table.Choice("policy", ["halt", "rollback"], fallback: "halt");
        table.RejectUnknownKeys();
        return policy == "rollback" ? RollbackPolicy.Rollback : RollbackPolicy.Halt;
    }

    private StateSpec BindState(TableCursor? table)
    {
        if (table is null)
        {
            return StateSpec.Default;
        }

        var kind = table.Choice("kind", [StateSpec.File, StateSpec.Postgres], fallback: StateSpec.File)!;
        var urlEnv = Checked(table, "url_env", ValueRules.EnvName);
        var schema = Checked(table, "schema", ValueRules.SchemaName);
        var ttl = table.Duration("lease_ttl", positive: true);
        if (ttl is { } t && (t < TimeSpan.FromSeconds(3) || t > TimeSpan.FromHours(1)))
        {
            sink.Error(
                table.LocationOf("lease_ttl"),
                $"'state.lease_ttl' is {DurationText.Format(t)}; it must be between 3s and 1h (the lease is renewed "
                    + "every third of it; 30s by default)"
            );
        }

        if (kind == StateSpec.File)
        {
            foreach (var key in new[] { "url_env", "schema", "lease_ttl" }.Where(table.Has))
            {
                sink.Error(
                    table.LocationOf(key),
                    $"'state.{key}' applies to kind = \"postgres\"; the file state store (kind = \"file\", the "
                        + "default) has no such setting: remove it or set kind = \"postgres\""
                );
            }
        }

        table.RejectUnknownKeys();
        return new StateSpec(kind, urlEnv, schema ?? StateSpec.DefaultSchema, ttl ?? StateSpec.DefaultLeaseTtl);
    }

    /// <summary>Reads a string and checks its shape with one of <see cref="ValueRules"/>.</summary>
    private static string? Checked(TableCursor table, string key, Func<string, string?> rule, bool required = false)
    {
        var value = table.String(key, required);
        if (value is null)
        {
            return null;
        }

        var problem = rule(value);
        if (problem is null)
        {
            return value;
        }

        // A key that names a variable holding a secret may have been given the secret itself: never echo it.
        var shown = key.EndsWith("_env", StringComparison.Ordinal)
            ? "not a variable name (the value is not shown: it may be the secret itself; put the secret in an "
                + "environment variable and name that variable here)"
            : $"'{TableCursor.Shorten(value)}'; it {problem}";
        table.Sink.Error(table.LocationOf(key), $"'{table.Describe(key)}' is {shown}");
        return null;
    }

    /// <summary>A command written as an argument vector (array) or a shell script (string).</summary>
    private CommandTemplate? Command(
        TableCursor table,
        string key,
        bool required = false,
        IReadOnlyList<string>? placeholders = null
    )
    {
        table.Shape(key, Schema.KeyTypes.Command);
        var node = table.Node(key, required);
        return node is null ? null : CommandFrom(node, table.Describe(key), placeholders ?? DefaultPlaceholderScope);
    }

    private IReadOnlyList<CommandTemplate> Commands(TableCursor table, string key)
    {
        table.Shape(key, Schema.KeyTypes.Commands);
        var node = table.Node(key, required: false);
        if (node is null)
        {
            return [];
        }

        if (node is not TomlArrayNode { IsTableArray: false } array)
        {
            sink.Error(
                node.Location,
                $"'{table.Describe(key)}' must be a list of commands, each an array of arguments or a script string"
            );
            return [];
        }

        var result = new List<CommandTemplate>();
        for (var i = 0; i < array.Items.Count; i++)
        {
            if (CommandFrom(array.Items[i], $"{table.Describe(key)}[{i + 1}]", DefaultPlaceholderScope) is { } command)
            {
                result.Add(command);
            }
        }

        return result;
    }

    private CommandTemplate? CommandFrom(TomlNode node, string where, IReadOnlyList<string> placeholders)
    {
        CommandTemplate? command = null;
        if (node is TomlValueNode { Value: string script })
        {
            command = new CommandTemplate([script], IsScript: true);
        }
        else if (
            node is TomlArrayNode { IsTableArray: false } array
            && array.Items.Count > 0
            && array.Items.All(i => i is TomlValueNode { Value: string })
        )
        {
            command = new CommandTemplate(
                array.Items.Select(i => (string)((TomlValueNode)i).Value).ToList(),
                IsScript: false
            );
        }

        if (
            command is null
            || command.Parts.Any(p => p.Contains('\0', StringComparison.Ordinal))
            || command.Parts[0].Trim().Length == 0
        )
        {
            sink.Error(
                node.Location,
                $"'{where}' must be a command: an array of argument strings such as [\"/usr/bin/install-mim\", "
                    + $"\"{{version}}\"] or a script string"
            );
            return null;
        }

        foreach (var name in command.Placeholders.Distinct())
        {
            if (!placeholders.Contains(name) && !name.StartsWith("var.", StringComparison.Ordinal))
            {
                sink.Error(
                    node.Location,
                    $"'{where}' uses unknown placeholder {{{name}}}{Suggestions.DidYouMean(name, placeholders)}"
                );
            }
        }

        return command;
    }
}
