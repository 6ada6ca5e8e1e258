using System.Text.Json;
using RollingUpgrade.Cli.Adapters;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// <c>status</c>: what the journal says about the last run, then what the nodes and balancers say now.
/// </summary>
internal sealed class StatusCommand(CliIO io, string path, string output, StateOptions stateOptions)
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

        var cluster = plan.Cluster.Name;
        var runId = await store.CurrentRunIdAsync(cluster).ConfigureAwait(false);
        var records = (runId is null ? null : await store.ReadJournalAsync(cluster, runId).ConfigureAwait(false)) ?? [];
        var steps = Planner.Create(plan).Steps;
        var summary = JournalSummary.From(records, steps, plan);
        var holder = await store.HolderAsync(cluster).ConfigureAwait(false);
        var lockText = holder is null ? "free" : $"held by {holder.Describe()}{StaleText(holder)}";
        var live = await LiveState.ReadAsync(plan, io.Adapters).ConfigureAwait(false);

        if (json)
        {
            await io
                .Output.WriteLineAsync(
                    JsonSerializer.Serialize(
                        new
                        {
                            type = "status",
                            run = runId,
                            outcome = summary.Outcome,
                            done = summary.Done,
                            total = steps.Count,
                            last_step = summary.LastStep,
                            rollback_available = summary.RollbackAvailable,
                            @lock = lockText,
                            live = live.Lines,
                        }
                    )
                )
                .ConfigureAwait(false);
            return ExitCodes.Done;
        }

        var o = io.Output;
        await o.WriteLineAsync($"cluster {cluster}, state in {store.Describe(cluster)}").ConfigureAwait(false);
        await o.WriteLineAsync(
                runId is null
                    ? "no run yet"
                    : $"run {runId}: {summary.Outcome}; {summary.Done}/{steps.Count} steps done"
            )
            .ConfigureAwait(false);
        if (summary.LastStep is not null)
        {
            await o.WriteLineAsync($"last step: {summary.LastStep}").ConfigureAwait(false);
        }

        if (plan.Strategy is ParallelStrategySpec)
        {
            await o.WriteLineAsync(
                    summary.RollbackAvailable
                        ? "rollback: available (`rollingupgrade rollback`)"
                        : "rollback: no longer possible, the old cluster is stopped"
                )
                .ConfigureAwait(false);
        }

        await o.WriteLineAsync($"lock: {lockText}").ConfigureAwait(false);
        await o.WriteLineAsync("live state:").ConfigureAwait(false);
        foreach (var line in live.Lines)
        {
            await o.WriteLineAsync($"  {line}").ConfigureAwait(false);
        }

        return ExitCodes.Done;
    }

    private static string StaleText(RunHolder holder) =>
        !holder.Stale ? string.Empty
        : holder.ExpiresAt is { } expired
            ? $" - EXPIRED at {expired:u}: that run stopped renewing its lease (`resume --take-over-stale-lock` "
                + "takes it over once you know it no longer runs)"
        : " - STALE, that process is gone";
}

internal sealed record JournalSummary(string Outcome, int Done, string? LastStep, bool RollbackAvailable)
{
    public static JournalSummary From(IReadOnlyList<JournalRecord> records, IReadOnlyList<Step> steps, Plan plan)
    {
        if (records.Count == 0)
        {
            return new JournalSummary("none", 0, null, plan.Strategy is ParallelStrategySpec);
        }

        var done = records
            .Where(r => r.Phase == "forward" && r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified)
            .Select(r => r.Step!.Value)
            .ToHashSet();
        var finished = records.LastOrDefault(r => r.Type is JournalTypes.RunFinished or JournalTypes.RunResumed);
        var outcome =
            finished?.Type == JournalTypes.RunFinished
                ? finished.Data?.GetValueOrDefault("outcome") ?? "finished"
                : "running or interrupted";
        var last = records.LastOrDefault(r =>
            r.Type is JournalTypes.StepStarted or JournalTypes.StepFailed or JournalTypes.StepSucceeded
        );
        var lastText = last is null
            ? null
            : $"{last.Phase} step {last.Step}: {last.Type} {last.Message ?? last.StepId}";
        var stopped = steps.Any(s => s.Kind == StepKind.StopBlue && done.Contains(s.Number));
        return new JournalSummary(outcome, done.Count, lastText, plan.Strategy is ParallelStrategySpec && !stopped);
    }
}
