using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Planning;

/// <summary>
/// The way back from a failed step. Rolling: the failed batch is brought back on the previous
/// version, then every upgraded batch in reverse order. Parallel: traffic returns to blue and
/// green is drained. Before any of it, with policy halt, nothing is reverted.
/// </summary>
internal static class RollbackPlanner
{
    /// <summary>
    /// Steps that undo the forward steps numbered below <paramref name="failed"/> (and the failed
    /// one's partial effect), each working with <paramref name="previousVersion"/>, the version the
    /// cluster ran before the run (empty when nobody knows it).
    /// </summary>
    public static IReadOnlyList<Step> Steps(
        Plan plan,
        IReadOnlyList<Step> forward,
        int failed,
        Func<Step, bool> isDone,
        string previousVersion
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(isDone);
        var list = new StepListBuilder
        {
            Serving = 0,
            Phase = RunPhase.Rollback,
            Version = previousVersion ?? string.Empty,
        };
        // The steps of a batch that ran together may have finished after the failed one's number.
        var touched = forward.Where(s => s.Number <= failed || isDone(s)).ToList();
        if (plan.Strategy is ParallelStrategySpec parallel)
        {
            AddTrafficBack(plan, parallel, list, touched, isDone);
        }
        else
        {
            AddNodesBack(plan, list, forward, touched, failed, isDone);
        }

        return list.Steps;
    }

    public static string Describe(Plan plan, IReadOnlyList<Step> forward, int number)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Strategy is ParallelStrategySpec && forward.Any(s => s.Kind == StepKind.StopBlue && s.Number < number))
        {
            return "none: the old cluster is stopped";
        }

        if (plan.Strategy is ParallelStrategySpec)
        {
            var registered = forward.Any(s => s.Kind == StepKind.RegisterGreen && s.Number <= number);
            if (!registered)
            {
                return "halt; the old cluster keeps all traffic";
            }

            var back = Steps(plan, forward, number, s => s.Number < number, plan.Upgrade.FromVersion ?? string.Empty);
            return "automatic: " + string.Join("; ", back.Select(s => s.Description));
        }

        if (plan.Rollback == RollbackPolicy.Halt)
        {
            var step = forward[number - 1];
            return
                step.Node is { } node
                && step.Kind
                    is not (
                        StepKind.CheckCluster
                        or StepKind.ListMigrations
                        or StepKind.Pause
                        or StepKind.VerifyCluster
                    )
                ? $"halt with {node} out of rotation, all other nodes serving"
                : "halt, all nodes serving";
        }

        var steps = Steps(plan, forward, number, s => s.Number < number, plan.Upgrade.FromVersion ?? string.Empty);
        return steps.Count == 0 ? "nothing to undo" : string.Join("; ", steps.Select(s => s.Description));
    }

    private static void AddTrafficBack(
        Plan plan,
        ParallelStrategySpec parallel,
        StepListBuilder list,
        List<Step> touched,
        Func<Step, bool> isDone
    )
    {
        var green = parallel.GreenNodes.Select(n => n.Name).ToArray();
        var shifted = touched
            .Where(s => s.Kind == StepKind.ShiftTraffic)
            .Select(s => s.GreenPercent ?? 0)
            .DefaultIfEmpty(0)
            .Max();
        var registered = touched.Any(s => s.Kind == StepKind.RegisterGreen);
        if (shifted > 0 || registered)
        {
            var path =
                parallel.RollbackMode == TrafficRollbackMode.Stepped
                    ? parallel.TrafficSteps.Where(p => p < shifted).Reverse().Append(0).ToList()
                    : [0];
            foreach (var percent in path)
            {
                foreach (var lb in plan.LoadBalancers)
                {
                    list.Add(
                        list.New(
                            StepKind.ShiftTraffic,
                            $"move traffic back in {lb.Name}: blue {100 - percent}% / green {percent}%",
                            green
                        ) with
                        {
                            LoadBalancer = lb.Name,
                            GreenPercent = percent,
                        }
                    );
                }
            }
        }

        var blueDrained = touched
            .Where(s => s.Kind == StepKind.Drain && s.Side == ClusterSide.Blue && isDone(s))
            .ToList();
        foreach (var step in blueDrained)
        {
            list.Add(
                list.New(
                    StepKind.Enable,
                    $"return old node {step.Node} to rotation in {step.LoadBalancer}",
                    step.Nodes.ToArray()
                ) with
                {
                    LoadBalancer = step.LoadBalancer,
                    Side = ClusterSide.Blue,
                }
            );
        }

        if (registered)
        {
            foreach (var node in green)
            {
                foreach (var lb in plan.LoadBalancers)
                {
                    list.Add(
                        list.New(StepKind.Drain, $"drain new node {node} in {lb.Name}", node) with
                        {
                            LoadBalancer = lb.Name,
                            Side = ClusterSide.Green,
                        }
                    );
                }
            }
        }
    }

    private static void AddNodesBack(
        Plan plan,
        StepListBuilder list,
        IReadOnlyList<Step> forward,
        List<Step> touched,
        int failed,
        Func<Step, bool> isDone
    )
    {
        var failedStep = forward[failed - 1];
        var inFlight = InFlightBatch(forward, failed);
        // The batch comes back the way it went: every node stopped and reinstalled, then all started, then all
        // verified (a node's membership check needs the others of its batch running), then back in rotation. The
        // nodes of the batch go through each stage together, as they went forward.
        var together = inFlight.Count > 1 && plan.Strategy is RollingStrategySpec { BatchParallel: true };
        var stopped = new List<string>();
        list.NewWave(together);
        foreach (var node in inFlight)
        {
            var done = touched.Where(s => s.Node == node).ToList();
            if (!done.Any(s => s.Kind == StepKind.Stop && (isDone(s) || s == failedStep)))
            {
                continue;
            }

            // The node may already be running the new version; stop it before putting the old one back.
            stopped.Add(node);
            list.Add(list.New(StepKind.Stop, $"stop {node}", node));
        }

        list.NewWave(together);
        foreach (var node in stopped)
        {
            var done = touched.Where(s => s.Node == node).ToList();
            var changed = done.Any(s => s.Kind is StepKind.Install or StepKind.ChangeConfig);
            var backedUp = done.Any(s => s.Kind == StepKind.BackupConfig && isDone(s));
            if (changed && plan.Upgrade.RollbackInstall is not null)
            {
                list.Add(list.New(StepKind.RollbackInstall, $"reinstall the previous version on {node}", node));
            }

            if (changed && backedUp)
            {
                list.Add(list.New(StepKind.RestoreConfig, $"restore the config of {node} from its backup", node));
            }
        }

        var expected = list.Version.Length > 0 ? list.Version : null;
        list.NewWave(together);
        foreach (var node in stopped)
        {
            list.Add(list.New(StepKind.Start, $"start {node}", node) with { ExpectedVersion = expected });
        }

        list.NewWave(together);
        foreach (var node in stopped)
        {
            list.Add(
                list.New(
                    StepKind.VerifyNode,
                    $"verify {node}: status started, previous version, exact membership",
                    node
                ) with
                {
                    ExpectedVersion = expected,
                }
            );
        }

        list.NewWave(together);
        foreach (var node in inFlight)
        {
            var done = touched.Where(s => s.Node == node).ToList();
            foreach (var drain in done.Where(s => s.Kind == StepKind.Drain && (isDone(s) || s == failedStep)))
            {
                list.Add(
                    list.New(StepKind.Enable, $"return {node} to rotation in {drain.LoadBalancer}", node) with
                    {
                        LoadBalancer = drain.LoadBalancer,
                    }
                );
            }
        }

        list.NewWave(false);
        var upgraded = touched
            .Where(s => s.Kind == StepKind.VerifyNode && isDone(s) && !inFlight.Contains(s.Node!))
            .Select(s => s.Node!)
            .Distinct()
            .Reverse()
            .ToList();
        foreach (var node in upgraded)
        {
            RollingStrategyPlanner.AddBatch(plan, list, [node]);
        }
    }

    /// <summary>The nodes of the batch the failed step belongs to.</summary>
    private static List<string> InFlightBatch(IReadOnlyList<Step> forward, int failed) =>
        forward[failed - 1].Batch is { } batch
            ? forward.Where(s => s.Batch == batch).SelectMany(s => s.Nodes).Distinct().ToList()
            : [];
}
