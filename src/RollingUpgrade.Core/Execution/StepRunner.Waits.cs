using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    /// <summary>How often a wait looks for `promote` or `rollback` from another process.</summary>
    private static readonly TimeSpan RequestPollInterval = TimeSpan.FromMilliseconds(250);

    private static async Task PauseAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var length = step.Pause ?? TimeSpan.Zero;

        // On resume the pause counts from when it first began, not from now.
        var end = context.StepStartedAt + length;
        context.Waiting = new WaitStatus("the pause to end", Until: end);
        if (end > context.Time.GetUtcNow())
        {
            var left = TimeSpan.FromSeconds(Math.Ceiling((end - context.Time.GetUtcNow()).TotalSeconds));
            context.Emit(RunEventTypes.Progress, $"pausing {DurationText.Format(left)}", step);
        }

        // A rollback asked for during a pause (parallel strategy) is honoured at once, not after it.
        await context
            .Time.PollAsync(
                RequestPollInterval,
                end - context.Time.GetUtcNow(),
                async _ =>
                {
                    await ThrowIfRollbackRequestedAsync(context).ConfigureAwait(false);
                    return false;
                },
                _ => false,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for <c>rollingupgrade promote</c>, which leaves the promoted percentage in the state store.
    /// </summary>
    private static async Task AwaitPromoteAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        if (step.GreenPercent is null)
        {
            await AwaitCanaryAsync(step, context, cancellationToken).ConfigureAwait(false);
            return;
        }

        var percent = step.GreenPercent ?? 0;
        context.Waiting = new WaitStatus($"`rollingupgrade promote` (at {percent}% green)");
        context.Emit(
            RunEventTypes.Progress,
            $"waiting at {percent}% green; run `rollingupgrade promote {context.Plan.SourcePath}` to go on, or "
                + $"`rollingupgrade rollback {context.Plan.SourcePath}` to go back",
            step
        );
        await context
            .Time.PollAsync(
                RequestPollInterval,
                Timeout.InfiniteTimeSpan,
                async _ =>
                {
                    await ThrowIfRollbackRequestedAsync(context).ConfigureAwait(false);
                    var request = await context
                        .Store.ReadRequestAsync(context.Plan.Cluster.Name, RunRequest.Promote)
                        .ConfigureAwait(false);
                    return int.TryParse(request, NumberStyles.Integer, CultureInfo.InvariantCulture, out var promoted)
                        && promoted >= percent;
                },
                promoted => promoted,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// A rolling run's canary hold: the metric gates' window when the plan has them (a promote ends it early), else
    /// `rollingupgrade promote`; `rollingupgrade rollback` takes the canary back.
    /// </summary>
    private static async Task AwaitCanaryAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var path = context.Plan.SourcePath;
        context.Emit(
            RunEventTypes.Progress,
            $"canary: {step.Description}; `rollingupgrade promote {path}` goes on, `rollingupgrade rollback {path}` "
                + "takes the canary back",
            step
        );
        context.Waiting = new WaitStatus(
            step.Gates.Count > 0 ? "the metric gates' window, or `rollingupgrade promote`" : "`rollingupgrade promote`"
        );
        using var promoted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = context.Time.PollAsync(
            RequestPollInterval,
            Timeout.InfiniteTimeSpan,
            async _ =>
            {
                await ThrowIfRollbackRequestedAsync(context).ConfigureAwait(false);
                return await context
                    .Store.ReadRequestAsync(context.Plan.Cluster.Name, RunRequest.Promote)
                    .ConfigureAwait(false)
                    is not null;
            },
            done => done,
            promoted.Token
        );
        if (step.Gates.Count == 0)
        {
            await watch.ConfigureAwait(false);
            context.Emit(RunEventTypes.Progress, "promoted: the run goes on", step);
            return;
        }

        var gates = RunGatesAsync(step, context, promoted.Token);
        var first = await Task.WhenAny(watch, gates).ConfigureAwait(false);
        await promoted.CancelAsync().ConfigureAwait(false);
        try
        {
            await first.ConfigureAwait(false);
        }
        finally
        {
            // The other one ends on the cancellation; only its own failure (a rollback request) matters.
            var other = first == watch ? gates : watch;
            try
            {
                await other.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (promoted.IsCancellationRequested) { }
        }

        context.Emit(
            RunEventTypes.Progress,
            first == watch ? "promoted: the run goes on" : "the metric gates passed over their window: the run goes on",
            step
        );
    }

    internal static async Task ThrowIfRollbackRequestedAsync(RunContext context)
    {
        if (context.Phase == RunPhase.Forward && await RollbackRequestedAsync(context).ConfigureAwait(false))
        {
            throw new RollbackRequestedException();
        }
    }

    /// <summary>Whether `rollingupgrade rollback` asked this run to go back.</summary>
    internal static async Task<bool> RollbackRequestedAsync(RunContext context) =>
        await context.Store.ReadRequestAsync(context.Plan.Cluster.Name, RunRequest.Rollback).ConfigureAwait(false)
            is not null;
}

/// <summary>`rollingupgrade rollback` asked the running run to move traffic back.</summary>
internal sealed class RollbackRequestedException() : Exception("rollback requested by `rollingupgrade rollback`");
