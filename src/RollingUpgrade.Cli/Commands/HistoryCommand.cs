using System.Globalization;
using System.Text.Json;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// <c>history</c>: every run of the plan's cluster in the state store, oldest first: run id, operator (user@host),
/// when, strategy, from -> to, outcome, duration, and the reason given.
/// </summary>
internal sealed class HistoryCommand(CliIO io, string path, string output, StateOptions stateOptions)
{
    public async Task<int> RunAsync()
    {
        var json = output == "json";
        var plan = await PlanFile.LoadAsync(io, path, json).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var redactor = RunCommand.SecretsFromEnvironment(plan);
        await using var store = await StateStores.OpenAsync(io, plan, stateOptions, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return ExitCodes.BadInput;
        }

        var where = store.Describe(plan.Cluster.Name);
        var runs = await RunHistory.ReadAsync(store, plan.Cluster.Name).ConfigureAwait(false);
        if (json)
        {
            foreach (var run in runs)
            {
                await io
                    .Output.WriteLineAsync(
                        JsonSerializer.Serialize(
                            new
                            {
                                type = "run",
                                run = run.RunId,
                                cluster = run.Cluster,
                                @operator = run.Operator,
                                reason = run.Reason,
                                started = run.StartedAt,
                                finished = run.FinishedAt,
                                strategy = run.Strategy,
                                from_version = run.FromVersion,
                                to_version = run.ToVersion,
                                outcome = run.Outcome,
                                duration_seconds = run.Duration?.TotalSeconds,
                                fingerprint = run.Fingerprint,
                                staging_override = run.StagingOverride,
                            }
                        )
                    )
                    .ConfigureAwait(false);
            }

            return ExitCodes.Done;
        }

        if (runs.Count == 0)
        {
            await io.Output.WriteLineAsync($"no runs of {plan.Cluster.Name} in {where}").ConfigureAwait(false);
            return ExitCodes.Done;
        }

        await io.Output.WriteLineAsync($"{runs.Count} run(s) of {plan.Cluster.Name} ({where}):").ConfigureAwait(false);
        foreach (var run in runs)
        {
            var duration = run.Duration is { } d
                ? Text.DurationText.Format(TimeSpan.FromSeconds(Math.Round(d.TotalSeconds)))
                : "-";
            await io
                .Output.WriteLineAsync(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"  {run.RunId}  {run.StartedAt:yyyy-MM-dd HH:mm}Z  {run.Operator ?? "?"}  "
                            + $"{run.Strategy ?? "?"}  {run.FromVersion ?? "?"} -> {run.ToVersion ?? "?"}  "
                            + $"{run.Outcome}  {duration}"
                    )
                )
                .ConfigureAwait(false);
            if (run.Reason is { } reason)
            {
                await io.Output.WriteLineAsync($"      reason: {reason}").ConfigureAwait(false);
            }

            if (run.StagingOverride is { } overridden)
            {
                await io.Output.WriteLineAsync($"      staging gate overridden: {overridden}").ConfigureAwait(false);
            }
        }

        return ExitCodes.Done;
    }
}
