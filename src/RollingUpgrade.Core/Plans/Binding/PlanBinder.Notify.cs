using RollingUpgrade.Notifications;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private List<NotifySpec> BindNotify(TableCursor top)
    {
        var receivers = new List<NotifySpec>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in top.TableArray("notify"))
        {
            var urlEnv = Checked(table, "url_env", ValueRules.EnvName, required: true);
            var name = Checked(table, "name", ValueRules.Name) ?? urlEnv;
            var events = table.StringArray("events");
            var format = table.Choice("format", NotifyFormats.All, fallback: NotifyFormats.Json);
            var secretEnv = Checked(table, "secret_env", ValueRules.EnvName);
            var timeout = table.Duration("timeout", positive: true);
            var attempts = table.Integer("attempts", min: 1, max: 10);
            table.RejectUnknownKeys();
            foreach (var unknown in (events ?? []).Where(e => !NotifyEvents.All.Contains(e)))
            {
                sink.Error(
                    table.LocationOf("events"),
                    $"'{table.Describe("events")}' names '{TableCursor.Shorten(unknown)}'"
                        + Suggestions.DidYouMean(unknown, NotifyEvents.All)
                );
            }

            if (timeout > TimeSpan.FromMinutes(1))
            {
                sink.Error(
                    table.LocationOf("timeout"),
                    $"'{table.Describe("timeout")}' is longer than 1m; a receiver must not hold the run's end"
                );
            }

            if (name is not null && !seen.Add(name))
            {
                sink.Error(
                    table.Location,
                    $"notify receiver '{name}' is named twice; give each [[notify]] its own name (or url_env)"
                );
            }

            if (urlEnv is null || name is null)
            {
                continue;
            }

            receivers.Add(
                new NotifySpec(
                    name,
                    urlEnv,
                    new HashSet<string>(events is { Count: > 0 } ? events : NotifyEvents.All, StringComparer.Ordinal)
                )
                {
                    Format = format ?? NotifyFormats.Json,
                    SecretEnv = secretEnv,
                    Timeout = timeout ?? TimeSpan.FromSeconds(5),
                    Attempts = (int)(attempts ?? 3),
                }
            );
        }

        return receivers;
    }
}
