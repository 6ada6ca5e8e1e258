using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using RollingUpgrade.Diagnostics;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Runs a plan's steps in order through the ports, journalling each step before and after.
/// On failure it halts at a safe point with the failed node out of rotation and every other
/// node serving, or rolls back when the plan (or the parallel strategy) says so.
/// </summary>
internal sealed partial class Executor(RunContext context, IRunFaults? faults = null)
{
    private readonly StepRunner _runner = new();

    /// <summary>Set by Ctrl-C: finish at the next safe point.</summary>
    public CancellationToken StopRequested { get; init; }

    /// <summary>
    /// Set by a second signal: the running command is ended (its process group terminated and
    /// confirmed gone) instead of waited for. A first signal only ends waiting steps at once.
    /// </summary>
    public CancellationToken Hurry { get; init; }

    /// <summary>
    /// Steps that only wait (for connections to end, a pause, a promote): a first signal ends them at once.
    /// </summary>
    private static bool OnlyWaits(Step step) =>
        step.Kind is StepKind.WaitDrained or StepKind.Pause or StepKind.AwaitPromote;

    public static ResiliencePipeline TransientPipeline(TimeProvider time, ILogger? log = null) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(
                new Polly.Retry.RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<TransientException>(),
                    MaxRetryAttempts = 3,
                    BackoffType = DelayBackoffType.Exponential,
                    Delay = TimeSpan.FromMilliseconds(500),
                    UseJitter = true,
                    OnRetry = retry =>
                    {
                        EngineLog.Retrying(
                            log ?? NullLogger.Instance,
                            retry.AttemptNumber + 1,
                            (long)retry.RetryDelay.TotalMilliseconds,
                            retry.Outcome.Exception?.Message ?? "no answer"
                        );
                        return ValueTask.CompletedTask;
                    },
                }
            )
            .Build();

    public async Task<RunOutcome> RunAsync()
    {
        context.Began = context
            .Journal.Append(new JournalRecord { Type = JournalTypes.RunStarted, Data = Audit.Started(context) })
            .At;
        EngineLog.RunBegan(context.Log, context.RunId, "started", context.Plan.SourcePath, context.Plan.Fingerprint);
        context.Emit(
            RunEventTypes.RunStarted,
            $"run {context.RunId}: {context.Steps.Strategy} upgrade of {context.Plan.Cluster.Name} to "
                + $"{context.Plan.Upgrade.TargetVersion}, {context.Steps.Steps.Count} steps"
        );
        return await ContinueForwardAsync(context.Steps.Steps, done: []).ConfigureAwait(false);
    }

    private async Task<RunOutcome> ContinueForwardAsync(IReadOnlyList<Step> steps, HashSet<int> done)
    {
        context.Phase = RunPhase.Forward;
        // Lazily filtered: the steps a wave ran are done by the time the loop reaches them.
        foreach (var step in steps.Where(s => !done.Contains(s.Number)))
        {
            if (StopRequested.IsCancellationRequested)
            {
                return Interrupted(step);
            }

            if (await HoldIfPausedAsync(step, done).ConfigureAwait(false) is { } held)
            {
                return held;
            }

            if (await StepRunner.RollbackRequestedAsync(context).ConfigureAwait(false))
            {
                return await FailAsync(
                        step,
                        "rollback requested by `rollingupgrade rollback`",
                        done,
                        forceRollback: true
                    )
                    .ConfigureAwait(false);
            }

            if (WaveOf(step, steps, done) is { } wave)
            {
                if (await RunWaveAsync(wave, done).ConfigureAwait(false) is { } stopped)
                {
                    return stopped;
                }

                continue;
            }

            var failure = await RunStepAsync(step, resumedAt: null).ConfigureAwait(false);
            if (failure is StepAttempt.Interrupted)
            {
                return Interrupted(step);
            }

            if (failure is StepAttempt.Failed failed)
            {
                return await FailAsync(
                        step,
                        failed.Message,
                        done,
                        forceRollback: failed.RollbackRequested,
                        failed.NodeTouched
                    )
                    .ConfigureAwait(false);
            }

            done.Add(step.Number);
        }

        return Finish(
            RunStatus.Succeeded,
            $"{context.Plan.Cluster.Name} runs {context.Plan.Upgrade.TargetVersion}; every step verified",
            "nothing; the run is complete"
        );
    }

    private abstract record StepAttempt
    {
        public sealed record Succeeded : StepAttempt;

        public sealed record Interrupted : StepAttempt;

        public sealed record Failed(string Message, bool NodeTouched, bool RollbackRequested = false) : StepAttempt;
    }

    /// <summary>
    /// Journals intent, runs the step (retrying transient faults when it is idempotent), journals the outcome.
    /// </summary>
    private async Task<StepAttempt> RunStepAsync(Step step, DateTimeOffset? resumedAt)
    {
        ThrowIfLeaseLost();
        context.Values.Enter(step);
        var started = context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.StepStarted,
                Phase = context.Phase.Text(),
                Step = step.Number,
                StepId = step.Id,
                Message = step.Description,
                Data = StepData(step),
            }
        );
        context.EnterStep(resumedAt ?? started.At);
        if (step.Kind == StepKind.Drain && step.Node is { } drained)
        {
            context.DrainedAt[drained] = started.At;
        }

        EngineLog.StepStarted(context.Log, step.Number, context.Phase.Text(), step.Description);
        var clock = context.Time.GetTimestamp();
        context.Emit(RunEventTypes.StepStarted, step.Description, step, StepData(step));
        CompareWithForecast(step);
        await using var heartbeat = Heartbeat.Start(context, step);
        faults?.At(step, FaultPoint.BeforeExecute, context.Phase.Text());
        // A step that acts runs to its end on a first signal (its command is waited for, within its
        // timeout); a second signal ends it. A step that only waits ends on the first.
        using var stop = OnlyWaits(step)
            ? CancellationTokenSource.CreateLinkedTokenSource(StopRequested, Hurry, context.Claim.Lost)
            : CancellationTokenSource.CreateLinkedTokenSource(Hurry);
        try
        {
            CheckMixedVersionWindow(step);
            if (StepRunner.IsIdempotent(step, context.Plan))
            {
                await context
                    .Transient.ExecuteAsync(
                        async ct => await _runner.ExecuteAsync(step, context, ct).ConfigureAwait(false),
                        stop.Token
                    )
                    .ConfigureAwait(false);
            }
            else
            {
                await _runner.ExecuteAsync(step, context, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return new StepAttempt.Interrupted();
        }
        catch (Exception e) when (e is not SimulatedCrashException and not JournalUnavailableException)
        {
            var (message, touched) = e switch
            {
                StepFailedException f => (f.Message, f.NodeTouched),
                RollbackRequestedException => (e.Message, false),
                TransientException or UnexpectedAnswerException or IOException or TimeoutException => (e.Message, true),
                InvalidOperationException or OperationCanceledException => (e.Message, true),
                _ => ($"{e.GetType().Name}: {e.Message}", true),
            };
            EngineLog.StepFailed(context.Log, step.Number, context.Phase.Text(), message, e);
            context.Journal.Append(
                new JournalRecord
                {
                    Type = JournalTypes.StepFailed,
                    Phase = context.Phase.Text(),
                    Step = step.Number,
                    StepId = step.Id,
                    Message = message,
                    Data = new() { ["node_touched"] = touched ? "true" : "false" },
                }
            );
            context.Emit(RunEventTypes.StepFailed, message, step, StepData(step));
            return new StepAttempt.Failed(message, touched, e is RollbackRequestedException);
        }

        faults?.At(step, FaultPoint.AfterExecute, context.Phase.Text());
        EngineLog.StepSucceeded(
            context.Log,
            step.Number,
            context.Phase.Text(),
            (long)context.Time.GetElapsedTime(clock).TotalMilliseconds
        );
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.StepSucceeded,
                Phase = context.Phase.Text(),
                Step = step.Number,
                StepId = step.Id,
            }
        );
        context.Emit(
            RunEventTypes.StepSucceeded,
            step.Description,
            step,
            new Dictionary<string, string>(StepData(step))
            {
                ["serving_after"] = step.ServingAfter.ToString(CultureInfo.InvariantCulture),
            }
        );
        faults?.At(step, FaultPoint.AfterRecord, context.Phase.Text());
        return new StepAttempt.Succeeded();
    }

    /// <summary>
    /// As each node (or batch) of a rolling run, or each traffic step of a parallel run, begins: how far into the run,
    /// and how that compares with the plan's forecast ("node 2 of 3 (n2): 4m 10s into the run, 1m 5s behind the
    /// forecast").
    /// </summary>
    private void CompareWithForecast(Step step)
    {
        if (
            context.Forecast is not { } forecast
            || context.Began is not { } began
            || step.Phase != RunPhase.Forward
            || step.Kind is not (StepKind.Drain or StepKind.ShiftTraffic)
        )
        {
            return;
        }

        var forward = context.Steps.Steps.Where(s => s.Phase == RunPhase.Forward).ToList();
        string? where = null;
        if (step.Kind == StepKind.Drain && step.Batch is { } batch && context.Plan.Strategy is RollingStrategySpec)
        {
            var batches = forward
                .Where(s => s.Batch is not null)
                .Select(s => s.Batch!.Value)
                .Distinct()
                .Order()
                .ToList();
            where =
                $"{(step.Nodes.Count > 1 ? "batch" : "node")} {batches.IndexOf(batch) + 1} of {batches.Count} "
                + $"({string.Join(", ", step.Nodes)})";
        }
        else if (step.Kind == StepKind.ShiftTraffic && step.GreenPercent is { } green)
        {
            where = $"traffic to {green}% on the new cluster";
        }

        // Once per node (or batch) and per traffic share, though the step is repeated for each load balancer.
        var first = forward.First(s =>
            s.Kind == step.Kind && s.Batch == step.Batch && s.GreenPercent == step.GreenPercent
        );
        if (where is null || first.Number != step.Number)
        {
            return;
        }

        var expected = forecast.ExpectedBefore(step.Number);
        var elapsed = context.Time.GetUtcNow() - began;
        var drift = elapsed - expected;
        var slack = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, expected.Ticks / 10));
        var against =
            drift.Duration() <= slack ? "on the forecast"
            : drift > TimeSpan.Zero ? $"{DurationText.Format(Round(drift))} behind the forecast"
            : $"{DurationText.Format(Round(drift.Negate()))} ahead of the forecast";
        context.Emit(
            RunEventTypes.Progress,
            $"{where}: {DurationText.Format(Round(elapsed))} into the run, {against} "
                + $"(~{DurationText.Format(Round(expected))} expected by now)",
            step,
            new Dictionary<string, string>
            {
                ["elapsed_s"] = Round(elapsed).TotalSeconds.ToString(CultureInfo.InvariantCulture),
                ["expected_s"] = Round(expected).TotalSeconds.ToString(CultureInfo.InvariantCulture),
            }
        );
    }

    private static TimeSpan Round(TimeSpan span) => TimeSpan.FromSeconds(Math.Round(span.TotalSeconds));

    /// <summary>What a step-started record says of the step, for reports: kind, nodes, balancer, green share.</summary>
    private static Dictionary<string, string> StepData(Step step)
    {
        var data = new Dictionary<string, string> { ["kind"] = step.Kind.ToString() };
        if (step.Nodes.Count > 0)
        {
            data["nodes"] = string.Join(',', step.Nodes);
        }

        if (step.LoadBalancer is { } lb)
        {
            data["lb"] = lb;
        }

        if (step.GreenPercent is { } green)
        {
            data["green_percent"] = green.ToString(CultureInfo.InvariantCulture);
        }

        return data;
    }

    /// <summary>
    /// Mixed versions may exist only as long as the plan allows; checked before a batch is taken out.
    /// </summary>
    private void CheckMixedVersionWindow(Step step)
    {
        if (
            step.Phase != RunPhase.Forward
            || step.Kind != StepKind.Drain
            || context.Plan.Strategy is not RollingStrategySpec { MaxMixedVersionWindow: { } window }
        )
        {
            return;
        }

        if (
            context.Facts.Get(RunState.MixedSince) is { } since
            && DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var start)
            && context.Time.GetUtcNow() - start > window
        )
        {
            throw new StepFailedException(
                $"mixed versions have run since {since}, longer than max_mixed_version_window ("
                    + $"{DurationText.Format(window)}); not taking another node out",
                nodeTouched: false
            );
        }
    }

    /// <summary>
    /// A run whose slot was lost (its shared lease not renewed in time, or taken over) stops here, before it touches
    /// a load balancer or node again; nothing more is journalled (the store would refuse it anyway).
    /// </summary>
    private void ThrowIfLeaseLost()
    {
        if (context.Claim.Lost.IsCancellationRequested)
        {
            throw new JournalUnavailableException(context.Claim.LostReason ?? "the run lease was lost")
            {
                LeaseLost = true,
            };
        }
    }

    private RunOutcome Interrupted(Step step)
    {
        ThrowIfLeaseLost();
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.RunFinished,
                Phase = context.Phase.Text(),
                Step = step.Number,
                Message = "interrupted",
                Data = new() { ["outcome"] = "interrupted" },
            }
        );
        var outcome = new RunOutcome(
            RunStatus.Interrupted,
            $"interrupted at step {step.Number} ({step.Description}); the cluster is as that step left it",
            $"run `rollingupgrade resume {context.Plan.SourcePath}` to continue; step {step.Number} will be checked "
                + $"against the real state first"
        )
        {
            RunId = context.RunId,
            FailedStep = step.Number,
        };
        context.Emit(
            RunEventTypes.RunFinished,
            outcome.Summary,
            step,
            new Dictionary<string, string> { ["outcome"] = "interrupted" }
        );
        return outcome;
    }

    private RunOutcome Finish(RunStatus status, string summary, string next, int? failedStep = null)
    {
        if (status == RunStatus.Succeeded && context.Forecast is { } forecast && context.Began is { } began)
        {
            context.Emit(
                RunEventTypes.Progress,
                $"the run took {DurationText.Format(Round(context.Time.GetUtcNow() - began))}; the forecast was "
                    + Forecast.Text(forecast.Expected, forecast.Worst)
            );
        }

        var word = status switch
        {
            RunStatus.Succeeded => "succeeded",
            RunStatus.RolledBack => "rolled-back",
            RunStatus.NeedsOperator => "needs-operator",
            _ => "halted",
        };
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.RunFinished,
                Phase = context.Phase.Text(),
                Step = failedStep,
                Message = summary,
                Data = new() { ["outcome"] = word, ["next"] = next },
            }
        );
        var outcome = new RunOutcome(status, summary, next) { RunId = context.RunId, FailedStep = failedStep };
        EngineLog.RunEnded(context.Log, context.RunId, word);
        context.Emit(
            RunEventTypes.RunFinished,
            summary,
            null,
            new Dictionary<string, string> { ["outcome"] = word, ["next"] = next }
        );
        return outcome;
    }
}
