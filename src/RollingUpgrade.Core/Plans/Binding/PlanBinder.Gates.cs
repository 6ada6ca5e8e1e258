using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
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
                    };
                    break;
                case GateKinds.LoadBalancerErrors:
                    gate = gate with { MaxNewErrors = table.Integer("max_new_errors", min: 0) ?? 0 };
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
