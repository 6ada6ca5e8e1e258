using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class Executor
{
    /// <summary>Halts (leaving the failed node out of rotation) or rolls back, then says what to do next.</summary>
    private async Task<RunOutcome> FailAsync(
        Step step,
        string message,
        HashSet<int> done,
        bool forceRollback,
        bool nodeTouched = true
    )
    {
        ThrowIfLeaseLost();
        await ReleaseHeldAsync(step).ConfigureAwait(false);
        var forward = context.Steps.Steps;
        // Parallel: traffic goes back to blue from the moment green is registered until blue is being retired.
        var retireStarts =
            forward.FirstOrDefault(s => s.Kind == StepKind.Drain && s.Side == ClusterSide.Blue)?.Number ?? int.MaxValue;
        var parallelPastRegister =
            context.Plan.Strategy is ParallelStrategySpec
            && step.Number < retireStarts
            && forward.Any(s => s.Kind == StepKind.RegisterGreen && s.Number <= step.Number);
        var rollback = forceRollback || context.Plan.Rollback == RollbackPolicy.Rollback || parallelPastRegister;
        if (context.Plan.Strategy is ParallelStrategySpec && !forceRollback && step.Number >= retireStarts)
        {
            // Green carries all traffic and passed its gates; retiring blue is retried, not undone.
            rollback = false;
        }

        if (
            context.Plan.Strategy is ParallelStrategySpec
            && forward.Any(s => s.Kind == StepKind.StopBlue && done.Contains(s.Number))
        )
        {
            rollback = false;
        }

        if (!nodeTouched && step.Kind == StepKind.WaitDrained && !rollback)
        {
            // Nothing on the node changed; put it back so the cluster is as it was.
            await ReturnToRotationAsync(step).ConfigureAwait(false);
            var now = await ReadBackAsync(context.LoadBalancers.Count == 0 ? [] : Registered(done))
                .ConfigureAwait(false);
            return Finish(
                RunStatus.Halted,
                $"step {step.Number} failed: {message}. {step.Node} was put back into rotation; "
                    + Describe(now, allWell: "every node serves"),
                $"raise strategy.drain.timeout or set on_timeout = \"evict\", then `rollingupgrade resume "
                    + $"{context.Plan.SourcePath}`",
                step.Number
            );
        }

        if (rollback && (nodeTouched || forceRollback || parallelPastRegister))
        {
            return await RollBackAsync(step, message, done).ConfigureAwait(false);
        }

        // The state said is the state read back from the balancers, not what the plan meant to do.
        var candidates = context.LoadBalancers.Count == 0 ? OutOfRotation(step, done, nodeTouched) : Registered(done);
        var readBack = await ReadBackAsync(candidates).ConfigureAwait(false);
        var outOfRotation = readBack.Out;
        // Steps that only read (the cluster check, the migration list) leave nothing touched.
        var onlyRead = done.All(n =>
            context.Steps.Steps[n - 1].Kind is StepKind.CheckCluster or StepKind.ListMigrations
        );
        var state = Describe(readBack, onlyRead && !nodeTouched ? "nothing touched" : "every node in rotation");
        return Finish(
            RunStatus.Halted,
            $"step {step.Number} ({step.Description}) failed: {message}. Halted with {state}",
            $"fix the cause{(outOfRotation.Count > 0 ? $" on {string.Join(", ", outOfRotation)}" : string.Empty)}, "
                + $"then `rollingupgrade resume {context.Plan.SourcePath}` to retry from step {step.Number}; "
                + $"`rollingupgrade status {context.Plan.SourcePath}` shows the journal and the live state",
            step.Number
        );
    }

    /// <summary>The state read back, in words: who is out, who serves, who is down, what could not be read.</summary>
    private string Describe(ReadBack state, string allWell)
    {
        if (state.Out.Count == 0 && state.Down.Count == 0 && state.Unknown.Count == 0)
        {
            return allWell;
        }

        var serving = state
            .Candidates.Except(state.Out)
            .Except(state.Down.Select(d => d.Node))
            .Except(state.Unknown.Select(u => u.Node))
            .ToList();
        var parts = new List<string>();
        if (state.Out.Count > 0)
        {
            parts.Add($"{string.Join(", ", state.Out)} out of rotation");
        }

        parts.Add($"{string.Join(", ", serving.DefaultIfEmpty("no node"))} serving");
        parts.AddRange(state.Down.Select(d => $"{d.Node} in rotation but failing {d.LoadBalancer}'s health check"));
        parts.AddRange(state.Unknown.Select(u => $"{u.Node} unknown: {u.Why}"));
        return string.Join("; ", parts);
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> the balancers really hold out of rotation now, which are in
    /// rotation but fail a health check (down before the run, or since), and which could not be read (a
    /// balancer that is unreachable is named as the cause).
    /// </summary>
    private async Task<ReadBack> ReadBackAsync(IReadOnlyList<string> candidates)
    {
        if (context.LoadBalancers.Count == 0)
        {
            // No balancer: the candidates are the nodes the run stopped; the rest of the cluster serves.
            return new ReadBack(candidates.ToList(), [], [], context.Blue.Select(n => n.Name).ToList());
        }

        var outOf = new List<string>();
        var down = new List<(string Node, string LoadBalancer)>();
        var unknown = new List<(string Node, string Why)>();
        foreach (var name in candidates)
        {
            var node = context.Node(name);
            var isOut = false;
            string? failing = null;
            foreach (var lb in context.LoadBalancers)
            {
                using var timeout = context.Time.Timeout(TimeSpan.FromSeconds(10), CancellationToken.None);
                try
                {
                    var states = await lb.ReadAsync([node], timeout.Token).ConfigureAwait(false);
                    isOut |= states.Any(s => s.Admin != ServerAdminState.Ready);
                    failing ??= states.Any(s => !s.Healthy) ? lb.Name : null;
                }
                catch (Exception e)
                    when (e
                            is TransientException
                                or UnexpectedAnswerException
                                or IOException
                                or OperationCanceledException
                    )
                {
                    unknown.Add((name, $"{lb.Name} could not be read ({e.Message})"));
                }
            }

            if (isOut)
            {
                outOf.Add(name);
            }
            else if (failing is not null && !unknown.Any(u => u.Node == name))
            {
                down.Add((name, failing));
            }
        }

        return new ReadBack(outOf, down, unknown.Where(u => !outOf.Contains(u.Node)).ToList(), candidates.ToList());
    }

    /// <summary>
    /// The nodes the balancers hold: the old cluster's, and the new cluster's once a parallel run has registered
    /// them (a halt while green carries the traffic must not say that no node serves).
    /// </summary>
    private List<string> Registered(HashSet<int> done)
    {
        var names = context.Blue.Select(n => n.Name).ToList();
        var registered = context.Steps.Steps.Any(s => s.Kind == StepKind.RegisterGreen && done.Contains(s.Number));
        if (registered)
        {
            names.AddRange(context.Green.Select(n => n.Name));
        }

        return names;
    }

    private sealed record ReadBack(
        List<string> Out,
        List<(string Node, string LoadBalancer)> Down,
        List<(string Node, string Why)> Unknown,
        List<string> Candidates
    );

    /// <summary>
    /// Nodes the run took out (drained, or stopped where there is no load balancer) and has not returned yet.
    /// </summary>
    private List<string> OutOfRotation(Step failed, HashSet<int> done, bool nodeTouched = true)
    {
        var steps = context.Steps.Steps;
        if (context.LoadBalancers.Count == 0)
        {
            return failed.Batch is { } batch
                ? steps
                    .Where(s =>
                        s.Batch == batch
                        && s.Kind == StepKind.Stop
                        && (done.Contains(s.Number) || s.Number == failed.Number)
                    )
                    .Select(s => s.Node!)
                    .ToList()
                : [];
        }

        return steps
            .Where(s =>
                s.Kind == StepKind.Drain
                && s.Side != ClusterSide.Blue
                && (done.Contains(s.Number) || (s.Number == failed.Number && nodeTouched))
            )
            .Select(s => s.Node!)
            .Where(node => !steps.Any(e => e.Kind == StepKind.Enable && e.Node == node && done.Contains(e.Number)))
            .Distinct()
            .ToList();
    }

    /// <summary>
    /// Version affinity ends with a halt or a rollback: the nodes it held out of new sessions take them again, so the
    /// cluster serves with every node while the operator looks (a resume holds them again).
    /// </summary>
    private async Task ReleaseHeldAsync(Step step)
    {
        foreach (var (name, lbName) in context.Held.ToList())
        {
            var lb = context.LoadBalancer(lbName);
            try
            {
                await lb.SetStateAsync(context.Node(name), ServerAdminState.Ready, CancellationToken.None)
                    .ConfigureAwait(false);
                context.Held.Remove((name, lbName));
                context.Emit(
                    RunEventTypes.Progress,
                    $"{name} takes new sessions again in {lbName} (version affinity ends with the run)",
                    step
                );
            }
            catch (Exception e)
                when (e is TransientException or UnexpectedAnswerException or IOException or InvalidOperationException)
            {
                context.Emit(
                    RunEventTypes.Warning,
                    $"could not return {name} to rotation in {lbName}: {e.Message}; it keeps its sessions but takes "
                        + "no new ones until it is set ready",
                    step
                );
            }
        }
    }

    private async Task ReturnToRotationAsync(Step step)
    {
        var node = context.Node(step.Node!);
        foreach (var lb in context.LoadBalancers)
        {
            try
            {
                await lb.SetStateAsync(node, ServerAdminState.Ready, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
                when (e is TransientException or UnexpectedAnswerException or IOException or InvalidOperationException)
            {
                context.Emit(
                    RunEventTypes.Warning,
                    $"could not return {node.Name} to rotation in {lb.Name}: {e.Message}",
                    step
                );
            }
        }
    }

    private async Task<RunOutcome> RollBackAsync(Step failed, string message, HashSet<int> done)
    {
        await ReleaseHeldAsync(failed).ConfigureAwait(false);
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.RollbackStarted,
                Phase = RunPhases.RollbackText,
                Step = failed.Number,
                Message = message,
                Data = new()
                {
                    ["done"] = string.Join(',', done.Order().Select(n => n.ToString(CultureInfo.InvariantCulture))),
                },
            }
        );
        context.Emit(RunEventTypes.RollbackStarted, $"step {failed.Number} failed: {message}; rolling back", failed);
        var steps = RollbackPlanner.Steps(
            context.Plan,
            context.Steps.Steps,
            failed.Number,
            s => done.Contains(s.Number),
            context.Values.PreviousVersion
        );
        return await ContinueRollbackAsync(failed, message, steps, []).ConfigureAwait(false);
    }

    private async Task<RunOutcome> ContinueRollbackAsync(
        Step failed,
        string message,
        IReadOnlyList<Step> steps,
        HashSet<int> done
    )
    {
        context.Phase = RunPhase.Rollback;
        foreach (var step in steps.Where(s => !done.Contains(s.Number)))
        {
            if (WaveOf(step, steps, done) is { } wave)
            {
                var (failures, unfinished) = await RunWaveStepsAsync(wave, done, steps).ConfigureAwait(false);
                if (failures.Count > 0)
                {
                    return RollbackFailed(failed, message, failures[0].Step, FailuresText(failures));
                }

                if (unfinished is not null)
                {
                    return Interrupted(unfinished);
                }

                continue;
            }

            var attempt = await RunStepAsync(step, resumedAt: null).ConfigureAwait(false);
            if (attempt is StepAttempt.Interrupted)
            {
                return Interrupted(step);
            }

            if (attempt is StepAttempt.Failed f)
            {
                return RollbackFailed(failed, message, step, f.Message);
            }

            done.Add(step.Number);
        }

        await context.Store.ClearRequestAsync(context.Plan.Cluster.Name, RunRequest.Rollback).ConfigureAwait(false);
        return Finish(
            RunStatus.RolledBack,
            $"step {failed.Number} ({failed.Description}) failed: {message}. Rolled back: {RolledBackState()}",
            $"find the cause in the journal ({context.Journal.Location}), fix it, and start a new run with "
                + $"`rollingupgrade run {context.Plan.SourcePath}`",
            failed.Number
        );
    }

    private RunOutcome RollbackFailed(Step failed, string message, Step step, string why) =>
        Finish(
            RunStatus.Halted,
            $"step {failed.Number} failed ({message}) and the rollback then failed at rollback step "
                + $"{step.Number} ({step.Description}): {why}",
            $"fix the cause, then `rollingupgrade resume {context.Plan.SourcePath}` to continue the rollback",
            failed.Number
        );

    private string RolledBackState() =>
        context.Plan.Strategy is ParallelStrategySpec
            ? "all traffic is on the old cluster, the new one is drained"
            : "the nodes touched by the run are back on the previous version and serving";
}
