using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    public static readonly IReadOnlyList<string> GenericOperations =
    [
        "status",
        "version",
        "members",
        "sessions",
        "stop",
        "start",
        "join",
    ];

    private static readonly IReadOnlyList<string> RequiredGenericOperations = ["status", "stop", "start"];

    /// <summary>A user name for HTTP basic auth: printable, no spaces, no ':' (which ends the name there).</summary>
    private static string? BasicAuthUser(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => c > ' ' && c < '\u007f' && c != ':')
            ? null
            : "must be the API's admin user name: printable, without spaces or ':' (such as \"admin\")";

    /// <summary>An http(s) URL whose placeholders are node values ({host}, {var.NAME}, ...).</summary>
    private static string? ApiUrlRule(string value)
    {
        if (UnknownNodePlaceholder(value) is { } unknown)
        {
            return unknown;
        }

        var sample = CommandTemplate
            .Placeholder()
            .Replace(value, m => m.Groups[1].Value == "host" ? "node.invalid" : "1");
        return ValueRules.Url(sample, "http", "https")
            ?? (
                new Uri(sample).Query.Length > 0
                    ? "must not carry a query string: it is the API's base URL (ejabberd) or endpoint (MongooseIM)"
                    : null
            );
    }

    /// <summary>host:port, where the host may be made of node values ({host}, {var.NAME}, ...).</summary>
    private static string? DistAddressRule(string value)
    {
        if (UnknownNodePlaceholder(value) is { } unknown)
        {
            return unknown;
        }

        var sample = CommandTemplate
            .Placeholder()
            .Replace(value, m => m.Groups[1].Value == "host" ? "{host}" : "node.invalid");
        return ValueRules.Endpoint(sample) is null
            ? null
            : "must be host:port (port 1-65535), such as '{host}:4370', the node's Erlang distribution port";
    }

    private static string? UnknownNodePlaceholder(string value)
    {
        var unknown = CommandTemplate
            .Placeholder()
            .Matches(value)
            .Select(m => m.Groups[1].Value)
            .FirstOrDefault(n =>
                !CommandTemplate.KnownPlaceholders.Contains(n) && !n.StartsWith("var.", StringComparison.Ordinal)
            );
        return unknown is null
            ? null
            : $"uses unknown placeholder {{{unknown}}}"
                + $"{Suggestions.DidYouMean(unknown, CommandTemplate.KnownPlaceholders)}";
    }

    private ProductSpec? BindProduct(TableCursor? table)
    {
        if (table is null)
        {
            return null;
        }

        var kind = table.Choice("kind", ["mongooseim", "ejabberd", "generic"], required: true);
        var spec = new ProductSpec
        {
            Kind = kind switch
            {
                "mongooseim" => ProductKind.MongooseIm,
                "ejabberd" => ProductKind.Ejabberd,
                _ => ProductKind.Generic,
            },
            ConfigPath = Checked(table, "config_path", PathWithNodePlaceholders),
            ConfigFiles = ConfigFiles(table),
            StartTimeout = table.Duration("start_timeout", positive: true) ?? TimeSpan.FromMinutes(2),
        };

        if (kind == "mongooseim")
        {
            var cli = table.Choice("cli", ["auto", "legacy", "graphql"], fallback: "auto");
            spec = spec with
            {
                InternalDatabase =
                    table.Choice("internal_database", ["mnesia", "cets", "mnesia+cets"], fallback: "mnesia")
                    ?? "mnesia",
                Cli = cli switch
                {
                    "legacy" => MongooseCliDialect.Legacy,
                    "graphql" => MongooseCliDialect.GraphQl,
                    _ => MongooseCliDialect.Auto,
                },
            };
        }

        if (kind is "mongooseim" or "ejabberd")
        {
            var ctl = Command(table, "ctl");
            if (ctl is { IsScript: true })
            {
                sink.Error(
                    table.LocationOf("ctl"),
                    $"'{table.Describe("ctl")}' must be an argument vector, such as [\"/usr/bin/mongooseimctl\"]: "
                        + $"arguments are appended to it"
                );
                ctl = null;
            }

            spec = spec with
            {
                Ctl =
                    ctl
                    ?? new CommandTemplate([kind == "mongooseim" ? "mongooseimctl" : "ejabberdctl"], IsScript: false),
                Start = Command(table, "start"),
                Stop = Command(table, "stop"),
                DistAddress = Checked(table, "dist_address", DistAddressRule),
                RunAs = Checked(table, "run_as", ValueRules.UserName),
            };
        }

        if (kind is "ejabberd" or "mongooseim")
        {
            // ejabberd: mod_http_api's base URL, an admin JID. MongooseIM: the admin GraphQL endpoint, the user name
            // its mongoose_graphql_handler is configured with.
            var ejabberd = kind == "ejabberd";
            var example = ejabberd ? "\"http://{host}:5280/api\"" : "\"http://{host}:5551/api/graphql\"";
            spec = spec with
            {
                ApiUrl = Checked(table, "api_url", ApiUrlRule),
                ApiUser = Checked(table, "api_user", ejabberd ? ValueRules.Jid : BasicAuthUser),
                ApiPasswordEnv = Checked(table, "api_password_env", ValueRules.EnvName),
            };
            // Written but refused already counts as given: its own message says what is wrong with it.
            if (table.Has("api_user") != table.Has("api_password_env"))
            {
                sink.Error(
                    table.LocationOf(spec.ApiUser is null ? "api_password_env" : "api_user"),
                    $"'product.api_user' and 'product.api_password_env' go together (HTTP basic auth for "
                        + $"{(ejabberd ? "ejabberd's API" : "MongooseIM's admin GraphQL API")}); set both or neither"
                );
            }

            if (spec.ApiUser is not null && !table.Has("api_url"))
            {
                sink.Error(
                    table.LocationOf("api_user"),
                    $"'product.api_user' is set but 'product.api_url' is not; set the API's URL, such as {example}"
                );
            }
        }

        if (kind == "generic")
        {
            var operations = new Dictionary<string, GenericOperation>(StringComparer.Ordinal);
            var commands = table.Table("commands", required: true);
            if (commands is not null)
            {
                foreach (var name in GenericOperations)
                {
                    if (BindOperation(commands, name, RequiredGenericOperations.Contains(name)) is { } operation)
                    {
                        operations[name] = operation;
                    }
                }

                commands.RejectUnknownKeys();
            }

            spec = spec with { Operations = operations };
        }

        table.RejectUnknownKeys();
        return kind is null ? null : spec;
    }

    /// <summary>product.config_files: absolute paths (node placeholders allowed); PlanRules checks the names.</summary>
    private List<string>? ConfigFiles(TableCursor table)
    {
        if (table.StringArray("config_files") is not { } files)
        {
            return null;
        }

        var result = new List<string>();
        foreach (var file in files)
        {
            if (PathWithNodePlaceholders(file) is { } problem)
            {
                sink.Error(
                    table.LocationOf("config_files"),
                    $"'{table.Describe("config_files")}' entry '{TableCursor.Shorten(file)}' {problem}"
                );
            }
            else
            {
                result.Add(file);
            }
        }

        return result;
    }

    /// <summary>
    /// An absolute path on the node that may name the node: "/srv/{node}/ejabberd.yml", "{var.dir}/app.toml".
    /// </summary>
    private static string? PathWithNodePlaceholders(string value)
    {
        foreach (System.Text.RegularExpressions.Match m in CommandTemplate.Placeholder().Matches(value))
        {
            var name = m.Groups[1].Value;
            if (
                name is not ("node" or "host" or "erlang_node" or "cluster")
                && !name.StartsWith("var.", StringComparison.Ordinal)
            )
            {
                return $"may use only {{node}}, {{host}}, {{erlang_node}}, {{cluster}} and {{var.NAME}}, not {{"
                    + $"{name}}}";
            }
        }

        var sample = CommandTemplate.Placeholder().Replace(value, "x");
        return sample.StartsWith('{')
            ? null
            : ValueRules.RemotePath(value.StartsWith("{var.", StringComparison.Ordinal) ? "/" + sample : sample);
    }

    private GenericOperation? BindOperation(TableCursor commands, string name, bool required)
    {
        var node = commands.Node(name, required);
        if (node is null)
        {
            return null;
        }

        if (node is not Toml.TomlTableNode)
        {
            var simple = CommandFrom(node, commands.Describe(name), DefaultPlaceholderScope);
            return simple is null ? null : new GenericOperation(simple, DefaultParse(name), null);
        }

        var table = commands.Table(name)!;
        var command = Command(table, "run", required: true);
        var parse = table.Choice("parse", ["exit-code", "regex", "json-path", "lines"]);
        var pattern = table.String("pattern");
        table.RejectUnknownKeys();
        var kind = parse switch
        {
            "regex" => OutputParse.Regex,
            "json-path" => OutputParse.JsonPath,
            "lines" => OutputParse.Lines,
            "exit-code" => OutputParse.ExitCode,
            _ => DefaultParse(name),
        };

        if (kind is OutputParse.Regex or OutputParse.JsonPath && pattern is null)
        {
            sink.Error(
                table.Location,
                $"'{table.Describe("parse")}' = \"{parse}\" needs '{table.Describe("pattern")}'"
            );
        }

        if (kind == OutputParse.Regex && pattern is not null && !IsValidRegex(pattern))
        {
            sink.Error(table.LocationOf("pattern"), $"'{table.Describe("pattern")}' is not a valid regular expression");
        }

        return command is null ? null : new GenericOperation(command, kind, pattern);
    }

    private static OutputParse DefaultParse(string operation) =>
        operation switch
        {
            "members" => OutputParse.Lines,
            "version" or "sessions" => OutputParse.Regex,
            _ => OutputParse.ExitCode,
        };

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(
                pattern,
                System.Text.RegularExpressions.RegexOptions.None,
                TimeSpan.FromSeconds(1)
            );
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
