using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;

namespace RollingUpgrade.Execution;

/// <summary>What resume does with a step that was in flight (or failed) and whose effect cannot be read back.</summary>
public enum InFlightChoice
{
    /// <summary>Re-run it only if it is idempotent; otherwise stop and explain.</summary>
    Verify,

    /// <summary>The operator says: run it again.</summary>
    Retry,

    /// <summary>The operator says: it completed.</summary>
    Skip,
}

internal sealed partial class Executor
{
    /// <summary>
    /// Continues the run recorded in the journal. The step that was in flight is checked against
    /// the real world first: marked done if its post-state holds, re-run if idempotent, otherwise
    /// the run stops and explains.
    /// </summary>
    public async Task<RunOutcome> ResumeAsync(
        IReadOnlyList<JournalRecord> records,
        InFlightChoice choice = InFlightChoice.Verify
    )
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var fact in records.Where(r => r.Type == JournalTypes.Fact && r.Data is not null))
        {
            context.Facts.Set(fact.Data!["key"], fact.Data["value"]);
        }

        var rollback = records.LastOrDefault(r => r.Type == JournalTypes.RollbackStarted);
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.RunResumed,
                Phase = (rollback is null ? RunPhase.Forward : RunPhase.Rollback).Text(),
                Data = Audit.Who(context),
            }
        );
        Diagnostics.EngineLog.RunBegan(
            context.Log,
            context.RunId,
            "resumed",
            context.Plan.SourcePath,
            context.Plan.Fingerprint
        );
        context.Emit(RunEventTypes.RunStarted, $"resuming run {context.RunId}");

        var forwardDone = DoneSteps(records, RunPhase.Forward);
        if (rollback is null)
        {
            context.Phase = RunPhase.Forward;
            await ReconcileAsync(records, context.Steps.Steps, []).ConfigureAwait(false);
            var pending = await SettleInFlightAsync(records, RunPhase.Forward, context.Steps.Steps, forwardDone, choice)
                .ConfigureAwait(false);
            return pending ?? await ContinueForwardAsync(context.Steps.Steps, forwardDone).ConfigureAwait(false);
        }

        var failedNumber = rollback.Step ?? 1;
        var doneAtRollback = (rollback.Data?.GetValueOrDefault("done") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            .ToHashSet();
        var steps = RollbackPlanner.Steps(
            context.Plan,
            context.Steps.Steps,
            failedNumber,
            s => doneAtRollback.Contains(s.Number),
            context.Values.PreviousVersion
        );
        var rollbackDone = DoneSteps(records, RunPhase.Rollback);
        context.Phase = RunPhase.Rollback;
        await ReconcileAsync(records, context.Steps.Steps, steps).ConfigureAwait(false);
        var blocked = await SettleInFlightAsync(records, RunPhase.Rollback, steps, rollbackDone, choice)
            .ConfigureAwait(false);
        if (blocked is not null)
        {
            return blocked;
        }

        var failed = context.Steps.Steps[failedNumber - 1];
        return await ContinueRollbackAsync(failed, rollback.Message ?? "failed", steps, rollbackDone)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// `rollingupgrade rollback` with no run active: the recorded run moves traffic back to the old
    /// cluster (parallel) from wherever it stopped. Refused once the old cluster was stopped.
    /// </summary>
    public async Task<RunOutcome> RollbackOnDemandAsync(IReadOnlyList<JournalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var fact in records.Where(r => r.Type == JournalTypes.Fact && r.Data is not null))
        {
            context.Facts.Set(fact.Data!["key"], fact.Data["value"]);
        }

        var done = DoneSteps(records, RunPhase.Forward);
        var steps = context.Steps.Steps;
        if (
            steps.Any(s =>
                s.Kind == StepKind.StopBlue
                && (
                    done.Contains(s.Number)
                    || records.Any(r =>
                        r.Phase == RunPhases.ForwardText && r.Step == s.Number && r.Type == JournalTypes.StepStarted
                    )
                )
            )
        )
        {
            return Finish(
                RunStatus.Halted,
                "rollback is no longer possible: the old cluster is being or has been stopped",
                "bring the old cluster back by hand if you need it; the new cluster serves all traffic"
            );
        }

        var last =
            records
                .LastOrDefault(r =>
                    r.Phase == RunPhases.ForwardText
                    && r.Step is not null
                    && r.Type is JournalTypes.StepStarted or JournalTypes.StepFailed
                )
                ?.Step
            ?? 1;
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.RunResumed,
                Phase = RunPhases.RollbackText,
                Message = "rollback requested by `rollingupgrade rollback`",
                Data = Audit.Who(context),
            }
        );
        // Nodes version affinity held (a run stopped by a signal leaves them so) take sessions again first.
        context.Held.UnionWith(HeldInJournal(records, steps));
        var outcome = await RollBackAsync(steps[last - 1], "rollback requested by `rollingupgrade rollback`", done)
            .ConfigureAwait(false);
        // The rollback asked for is what succeeded: say so, not "step N failed".
        return outcome.Status == RunStatus.RolledBack
            ? outcome with
            {
                Status = RunStatus.Succeeded,
                Summary = $"rolled back by `rollingupgrade rollback`: {RolledBackState()}",
            }
            : outcome;
    }

    private static HashSet<int> DoneSteps(IReadOnlyList<JournalRecord> records, RunPhase phase) =>
        records
            .Where(r =>
                r.Phase == phase.Text()
                && r.Step is not null
                && r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified
            )
            .Select(r => r.Step!.Value)
            .ToHashSet();

    /// <summary>
    /// Returns an outcome when the run must stop for the operator; null when it can go on. The step in flight is the
    /// last one started; when it belongs to a wave (a batch going through a stage together), every step of that wave
    /// that started and did not finish was in flight, and each is settled in turn.
    /// </summary>
    private async Task<RunOutcome?> SettleInFlightAsync(
        IReadOnlyList<JournalRecord> records,
        RunPhase phase,
        IReadOnlyList<Step> steps,
        HashSet<int> done,
        InFlightChoice choice
    )
    {
        var begun = records
            .Where(r =>
                r.Phase == phase.Text()
                && r.Step is not null
                && r.Step <= steps.Count
                && r.Type is JournalTypes.StepStarted or JournalTypes.StepFailed
            )
            .ToList();
        if (begun.Count == 0)
        {
            return null;
        }

        var wave = steps[begun[^1].Step!.Value - 1].Wave;
        var inFlight = wave is null
            ? [begun[^1].Step!.Value]
            : begun.Select(r => r.Step!.Value).Where(n => steps[n - 1].Wave == wave).Distinct().Order().ToList();
        foreach (var number in inFlight.Where(n => !done.Contains(n)))
        {
            var last = begun.Last(r => r.Step == number);
            if (await SettleOneAsync(last, phase, steps, done, choice, records).ConfigureAwait(false) is { } stop)
            {
                return stop;
            }
        }

        return null;
    }

    private async Task<RunOutcome?> SettleOneAsync(
        JournalRecord last,
        RunPhase phase,
        IReadOnlyList<Step> steps,
        HashSet<int> done,
        InFlightChoice choice,
        IReadOnlyList<JournalRecord> records
    )
    {
        var step = steps[last.Step!.Value - 1];
        if (step.Id != last.StepId)
        {
            return Finish(
                RunStatus.NeedsOperator,
                $"the journal's step {step.Number} is '{last.StepId}' but the plan now gives '{step.Id}'",
                "resume only with the plan the run started with"
            );
        }

        var startedAt = records
            .Last(r => r.Phase == phase.Text() && r.Step == step.Number && r.Type == JournalTypes.StepStarted)
            .At;
        if (choice == InFlightChoice.Skip)
        {
            MarkVerified(step, "the operator said it completed");
            done.Add(step.Number);
            return null;
        }

        context.Values.Enter(step);
        bool holds;
        try
        {
            holds = await _runner.PostStateHoldsAsync(step, context, StopRequested).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Ports.TransientException or Ports.UnexpectedAnswerException or IOException)
        {
            holds = false;
        }

        if (holds)
        {
            MarkVerified(step, "its post-state holds");
            done.Add(step.Number);
            return null;
        }

        if (choice == InFlightChoice.Retry || StepRunner.IsIdempotent(step, context.Plan))
        {
            var attempt = await RunStepAsync(
                    step,
                    step.Kind is StepKind.Pause or StepKind.WaitDrained ? startedAt : null
                )
                .ConfigureAwait(false);
            switch (attempt)
            {
                case StepAttempt.Interrupted:
                    return Interrupted(step);
                case StepAttempt.Failed f when phase == RunPhase.Forward:
                    return await FailAsync(step, f.Message, done, forceRollback: false, f.NodeTouched)
                        .ConfigureAwait(false);
                case StepAttempt.Failed f:
                    return Finish(
                        RunStatus.Halted,
                        $"rollback step {step.Number} ({step.Description}) failed again: {f.Message}",
                        $"fix the cause, then `rollingupgrade resume {context.Plan.SourcePath}`",
                        step.Number
                    );
            }

            done.Add(step.Number);
            return null;
        }

        return Finish(
            RunStatus.NeedsOperator,
            $"step {step.Number} ({step.Description}) was in flight when the run stopped, and its effect cannot be "
                + $"read back",
            $"check {step.Node ?? "the node"} by hand; then `rollingupgrade resume {context.Plan.SourcePath} "
                + $"--retry-in-flight` to run it again, or `--skip-in-flight` if it completed",
            step.Number
        );
    }

    private void MarkVerified(Step step, string why)
    {
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.StepVerified,
                Phase = context.Phase.Text(),
                Step = step.Number,
                StepId = step.Id,
                Message = why,
            }
        );
        context.Emit(RunEventTypes.StepSkipped, $"{step.Description}: {why}", step);
    }
}
