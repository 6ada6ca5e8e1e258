using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Execution;

internal sealed partial class Executor
{
    private static readonly TimeSpan PausePollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Where `rollingupgrade pause` takes effect: before a rolling run takes its next node (or batch) out, or waits
    /// between nodes, and before a parallel run moves traffic again. Every node the run touched is back in rotation
    /// there.
    /// </summary>
    private bool IsSafePoint(Step step) =>
        context.Plan.Strategy is ParallelStrategySpec
            ? step.Kind == StepKind.ShiftTraffic
            : step.Kind is StepKind.Pause or StepKind.VerifyCluster
                || (step.Batch is { } batch && context.Steps.Steps.First(s => s.Batch == batch).Number == step.Number);

    /// <summary>
    /// Holds before <paramref name="step"/> while `rollingupgrade pause` is in force: until `resume` (go on),
    /// `rollback` (go back) or a signal (stop, resumable). Null when the run goes on.
    /// </summary>
    private async Task<RunOutcome?> HoldIfPausedAsync(Step step, HashSet<int> done)
    {
        var cluster = context.Plan.Cluster.Name;
        if (
            !IsSafePoint(step)
            || await context.Store.ReadRequestAsync(cluster, RunRequest.Pause).ConfigureAwait(false) is null
        )
        {
            return null;
        }

        var path = context.Plan.SourcePath;
        context.Waiting = new WaitStatus("`rollingupgrade resume` (paused)");
        context.Emit(
            RunEventTypes.Progress,
            $"paused before step {step.Number} ({step.Description}) with every node serving; "
                + $"`rollingupgrade resume {path}` goes on, `rollingupgrade rollback {path}` goes back",
            step
        );
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(StopRequested, context.Claim.Lost);
        try
        {
            while (true)
            {
                if (
                    await context.Store.ReadRequestAsync(cluster, RunRequest.Continue).ConfigureAwait(false) is not null
                )
                {
                    await context.Store.ClearRequestAsync(cluster, RunRequest.Continue).ConfigureAwait(false);
                    await context.Store.ClearRequestAsync(cluster, RunRequest.Pause).ConfigureAwait(false);
                    context.Waiting = null;
                    context.Emit(RunEventTypes.Progress, "resumed by `rollingupgrade resume`; going on", step);
                    return null;
                }

                if (await StepRunner.RollbackRequestedAsync(context).ConfigureAwait(false))
                {
                    context.Waiting = null;
                    return await FailAsync(step, "rollback requested by `rollingupgrade rollback`", done, true)
                        .ConfigureAwait(false);
                }

                await Task.Delay(PausePollInterval, context.Time, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            ThrowIfLeaseLost();
            return Interrupted(step);
        }
    }
}
