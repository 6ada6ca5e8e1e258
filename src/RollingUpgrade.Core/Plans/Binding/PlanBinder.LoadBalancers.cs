using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private readonly Dictionary<string, Toml.SourceLocation> _loadBalancerLocations = new(StringComparer.Ordinal);

    /// <summary>Every load balancer name the file declares, valid or not.</summary>
    public HashSet<string> DeclaredLoadBalancers { get; } = new(StringComparer.Ordinal);

    private List<LoadBalancerSpec> BindLoadBalancers(TableCursor top)
    {
        var result = new List<LoadBalancerSpec>();
        foreach (var table in top.TableArray("load_balancers"))
        {
            var name = Checked(table, "name", ValueRules.Name, required: true);
            var kind = table.Choice("kind", LoadBalancerKinds.All, required: true);
            LoadBalancerSettings? settings = kind switch
            {
                LoadBalancerKinds.HAProxy => BindHAProxy(table),
                LoadBalancerKinds.Yarp => BindYarp(table),
                LoadBalancerKinds.AwsElbV2 => BindAws(table),
                _ => null,
            };
            if (kind is not null)
            {
                table.RejectUnknownKeys();
            }

            if (name is not null && kind is null | settings is null)
            {
                // Declared, but with a mistake reported above: nodes may still name it.
                DeclaredLoadBalancers.Add(name);
            }

            if (name is null || kind is null || settings is null)
            {
                continue;
            }

            DeclaredLoadBalancers.Add(name);
            if (!_loadBalancerLocations.TryAdd(name, table.Location))
            {
                sink.Error(
                    table.LocationOf("name"),
                    $"load balancer name '{name}' is used twice (first at {_loadBalancerLocations[name].LineText}); "
                        + $"give each entry its own name"
                );
                continue;
            }

            result.Add(new LoadBalancerSpec(name, kind, settings));
        }

        return result;
    }

    private HAProxySettings? BindHAProxy(TableCursor table)
    {
        var sockets = table.StringArray("sockets", required: true);
        var backends = table.StringArray("backends", required: true);
        var timeout = table.Duration("timeout", positive: true) ?? TimeSpan.FromSeconds(5);
        var readyTimeout = table.Duration("ready_timeout", positive: true) ?? TimeSpan.FromSeconds(30);
        var ok = sockets is not null && backends is not null;
        if (sockets is { Count: 0 })
        {
            sink.Error(
                table.LocationOf("sockets"),
                $"'{table.Describe("sockets")}' is empty; name each HAProxy's stats socket, such as "
                    + $"\"/run/haproxy/admin.sock\" or \"tcp:127.0.0.1:9999\""
            );
            ok = false;
        }

        foreach (var socket in sockets ?? [])
        {
            var isTcp = socket.StartsWith("tcp:", StringComparison.Ordinal);
            var problem = isTcp ? ValueRules.Endpoint(socket[4..]) : ValueRules.LocalPath(socket);
            if (problem is not null)
            {
                sink.Error(
                    table.LocationOf("sockets"),
                    $"'{table.Describe("sockets")}' entry '{TableCursor.Shorten(socket)}' {problem}; write a unix "
                        + $"socket path or tcp:HOST:PORT"
                );
                ok = false;
            }
        }

        if (sockets is not null && sockets.Distinct(StringComparer.Ordinal).Count() != sockets.Count)
        {
            sink.Error(table.LocationOf("sockets"), $"'{table.Describe("sockets")}' names the same socket twice");
            ok = false;
        }

        if (backends is { Count: 0 })
        {
            sink.Error(
                table.LocationOf("backends"),
                $"'{table.Describe("backends")}' is empty; name the backends that hold the nodes, such as "
                    + $"[\"be_xmpp\", \"be_http\"]"
            );
            ok = false;
        }

        foreach (var backend in backends ?? [])
        {
            if (ValueRules.Name(backend) is { } problem)
            {
                sink.Error(
                    table.LocationOf("backends"),
                    $"'{table.Describe("backends")}' entry '{TableCursor.Shorten(backend)}' {problem}"
                );
                ok = false;
            }
        }

        return ok ? new HAProxySettings(sockets!, backends!, timeout) { ReadyTimeout = readyTimeout } : null;
    }

    private YarpSettings? BindYarp(TableCursor table)
    {
        var url = Checked(table, "admin_url", v => ValueRules.Url(v, "http", "https"), required: true);
        var cluster = Checked(table, "cluster", ValueRules.Name, required: true);
        var token = Checked(table, "token_env", ValueRules.EnvName);
        var ready = table.Duration("ready_timeout", positive: true) ?? TimeSpan.FromSeconds(30);
        return url is null || cluster is null ? null : new YarpSettings(url, cluster, token) { ReadyTimeout = ready };
    }

    private AwsElbV2Settings? BindAws(TableCursor table)
    {
        var region = table.String("region");
        if (region is not null && !System.Text.RegularExpressions.Regex.IsMatch(region, "^[a-z]{2}(-[a-z]+)+-[0-9]$"))
        {
            sink.Error(
                table.LocationOf("region"),
                $"'{table.Describe("region")}' is '{TableCursor.Shorten(region)}'; write an AWS region such as "
                    + $"\"eu-west-1\""
            );
            region = null;
        }

        var endpoint = Checked(table, "endpoint", v => ValueRules.Url(v, "http", "https"));
        var groups = table.StringArray("target_groups", required: true);
        var green = table.StringArray("green_target_groups") ?? [];
        var listener = table.String("listener_arn");
        var rule = table.String("rule_arn");
        foreach (var (key, values) in new[] { ("target_groups", groups ?? []), ("green_target_groups", green) })
        {
            foreach (var group in values)
            {
                if (!IsTargetGroupReference(group))
                {
                    sink.Error(
                        table.LocationOf(key),
                        $"'{table.Describe(key)}' entry '{TableCursor.Shorten(group)}' is neither a target group ARN "
                            + $"(arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID) nor a target group "
                            + $"name (1-32 letters, digits and '-')"
                    );
                }
            }
        }

        foreach (
            var (key, value, type) in new[]
            {
                ("listener_arn", listener, "listener"),
                ("rule_arn", rule, "listener-rule"),
            }
        )
        {
            if (
                value is not null
                && !value.StartsWith("arn:aws", StringComparison.Ordinal)
                    | (value is not null && !value.Contains($":{type}/", StringComparison.Ordinal))
            )
            {
                sink.Error(
                    table.LocationOf(key),
                    $"'{table.Describe(key)}' must be an ELBv2 {type} ARN "
                        + $"(arn:aws:elasticloadbalancing:REGION:ACCOUNT:{type}/...)"
                );
            }
        }

        if (listener is not null && rule is not null)
        {
            sink.Error(
                table.LocationOf("rule_arn"),
                $"'{table.Describe("rule_arn")}' and 'listener_arn' are both set; weighted cutover changes one of "
                    + $"them: the listener's default action or a rule's"
            );
        }

        var port = (int?)table.Integer("port", min: 1, max: 65535);
        var ready = table.Duration("ready_timeout", positive: true) ?? TimeSpan.FromMinutes(10);
        return groups is null
            ? null
            : new AwsElbV2Settings(region, endpoint, groups, listener, rule, green)
            {
                Port = port,
                ReadyTimeout = ready,
            };
    }

    private static bool IsTargetGroupReference(string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(
            value,
            @"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,16}$"
        ) || System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$");
}
