using RollingUpgrade.Execution;

namespace RollingUpgrade.Cli.Commands;

internal sealed class ValidateCommand(CliIO io, string path, string output, bool inspect, StateOptions stateOptions)
{
    public async Task<int> RunAsync()
    {
        var json = output == "json";
        var plan = await PlanFile.LoadAsync(io, path, json, inspect, strict: true).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        string? stateText = null;
        if (inspect)
        {
            var redactor = RunCommand.SecretsFromEnvironment(plan);
            var (ok, text) = await StateStores.CheckAsync(plan, stateOptions, redactor).ConfigureAwait(false);
            if (!ok)
            {
                await io.Error.WriteLineAsync($"{path}: {text}").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            stateText = text;
        }

        if (!json)
        {
            await io
                .Output.WriteLineAsync(
                    $"{path}: valid ({plan.Nodes.Count} nodes, {plan.LoadBalancers.Count} load balancer(s), "
                        + $"{(plan.Strategy is Plans.Model.RollingStrategySpec ? "rolling" : "parallel")} strategy, "
                        + $"target {plan.Upgrade.TargetVersion})"
                )
                .ConfigureAwait(false);
            if (stateText is not null)
            {
                await io.Output.WriteLineAsync($"  {stateText}").ConfigureAwait(false);
            }
        }
        else
        {
            await io
                .Output.WriteLineAsync(
                    System.Text.Json.JsonSerializer.Serialize(
                        new
                        {
                            type = "valid",
                            file = path,
                            state = stateText,
                        }
                    )
                )
                .ConfigureAwait(false);
        }

        return ExitCodes.Done;
    }
}
