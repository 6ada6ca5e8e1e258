using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    /// <summary>A metric gate like Argo Rollouts' analysis: a query measured over a window, against a condition.
    /// </summary>
    private GateSpec BindPrometheusGate(TableCursor table, GateSpec gate)
    {
        var query = table.String("query", required: true);
        if (query is not null && (query.Length > 4000 || query.Any(char.IsControl) || query.Trim().Length == 0))
        {
            sink.Error(
                table.LocationOf("query"),
                $"'{table.Describe("query")}' must be one PromQL expression of at most 4000 characters on one line"
            );
        }

        var conditionText = table.String("condition", required: true);
        MetricCondition? condition = null;
        if (conditionText is not null)
        {
            (condition, var problem) = MetricCondition.Parse(conditionText);
            if (problem is not null)
            {
                sink.Error(
                    table.LocationOf("condition"),
                    $"'{table.Describe("condition")}' is '{TableCursor.Shorten(conditionText)}'; it {problem}"
                );
            }
        }

        var measurements = (int)(table.Integer("measurements", min: 1, max: 1000) ?? 1);
        var failureLimit = (int)(table.Integer("failure_limit", min: 0) ?? 0);
        if (failureLimit >= measurements && table.Has("failure_limit"))
        {
            sink.Error(
                table.LocationOf("failure_limit"),
                $"'{table.Describe("failure_limit")}' is {failureLimit}, so the gate could never fail with "
                    + $"{measurements} measurement(s); make it less than measurements"
            );
        }

        return gate with
        {
            Target = Checked(table, "url", v => ValueRules.Url(v, "http", "https"), required: true),
            Query = query,
            Condition = condition,
            Measurements = measurements,
            Interval = table.Duration("interval", positive: true) ?? TimeSpan.FromSeconds(30),
            FailureLimit = failureLimit,
            NoDataPasses = table.Choice("no_data", ["fail", "pass"], fallback: "fail") == "pass",
            TokenEnv = Checked(table, "token_env", ValueRules.EnvName),
        };
    }

    private List<GateSpec> BindGates(TableCursor top)
    {
        var gates = new List<GateSpec>();
        var seen = new Dictionary<string, Toml.SourceLocation>(StringComparer.Ordinal);
        foreach (var table in top.TableArray("gates"))
        {
            var name = Checked(table, "name", ValueRules.Name, required: true);
            var kind = table.Choice("kind", GateKinds.All, required: true);
            var gate = new GateSpec(name ?? string.Empty, kind ?? string.Empty)
            {
                Timeout = table.Duration("timeout", positive: true) ?? TimeSpan.FromSeconds(10),
                Attempts = (int)(table.Integer("attempts", min: 1, max: 100) ?? 3),
            };

            switch (kind)
            {
                case GateKinds.Command:
                    gate = gate with { Command = Command(table, "run", required: true) };
                    break;
                case GateKinds.Http:
                    gate = gate with
                    {
                        Target = Checked(
                            table,
                            "url",
                            v =>
                                ValueRules.Url(
                                    v.Replace("{host}", "node.invalid", StringComparison.Ordinal),
                                    "http",
                                    "https"
                                ),
                            required: true
                        ),
                        ExpectStatus = (int)(table.Integer("expect_status", min: 100, max: 599) ?? 200),
                        ExpectBody = table.String("expect_body"),
                    };
                    break;
                case GateKinds.Tcp:
                    gate = gate with { Target = Checked(table, "address", ValueRules.Endpoint, required: true) };
                    break;
                case GateKinds.XmppLogin:
                    gate = gate with
                    {
                        Target = Checked(table, "address", ValueRules.Endpoint, required: true),
                        User = Checked(table, "user", ValueRules.Name, required: true),
                        PasswordEnv = Checked(table, "password_env", ValueRules.EnvName, required: true),
                        Domain = Checked(table, "domain", ValueRules.Host, required: true),
                        MaxLatency = table.Duration("max_latency", positive: true),
                    };
                    break;
                case GateKinds.LoadBalancerErrors:
                    gate = gate with { MaxNewErrors = table.Integer("max_new_errors", min: 0) ?? 0 };
                    break;
                case GateKinds.Prometheus:
                    gate = BindPrometheusGate(table, gate);
                    break;
            }

            if (kind is not null)
            {
                table.RejectUnknownKeys();
            }

            if (name is null || kind is null)
            {
                continue;
            }

            if (!seen.TryAdd(name, table.Location))
            {
                sink.Error(
                    table.LocationOf("name"),
                    $"gate name '{name}' is used twice (first at {seen[name].LineText}); give each gate its own name"
                );
                continue;
            }

            gates.Add(gate);
        }

        return gates;
    }
}
