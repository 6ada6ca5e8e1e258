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

    internal static async Task ThrowIfRollbackRequestedAsync(RunContext context)
    {
        if (
            context.Plan.Strategy is ParallelStrategySpec
            && context.Phase == RunPhase.Forward
            && await RollbackRequestedAsync(context).ConfigureAwait(false)
        )
        {
            throw new RollbackRequestedException();
        }
    }

    /// <summary>Whether `rollingupgrade rollback` asked this (parallel) run to move traffic back.</summary>
    internal static async Task<bool> RollbackRequestedAsync(RunContext context) =>
        context.Plan.Strategy is ParallelStrategySpec
        && await context.Store.ReadRequestAsync(context.Plan.Cluster.Name, RunRequest.Rollback).ConfigureAwait(false)
            is not null;
}

/// <summary>`rollingupgrade rollback` asked the running run to move traffic back.</summary>
internal sealed class RollbackRequestedException() : Exception("rollback requested by `rollingupgrade rollback`");
