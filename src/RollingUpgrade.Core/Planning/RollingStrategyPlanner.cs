using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Planning;

/// <summary>
/// MongooseIM's rolling upgrade procedure, node by node (or batch by batch): drain everywhere,
/// wait for zero connections, stop, back up the config, install, start, verify status, version
/// and exact membership, gates, back into rotation.
/// </summary>
internal static class RollingStrategyPlanner
{
    public static IReadOnlyList<Step> Steps(Plan plan, RollingStrategySpec strategy)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(strategy);
        var list = new StepListBuilder { Serving = plan.Nodes.Count, Version = plan.Upgrade.TargetVersion };
        var order = strategy.Order.Count > 0 ? strategy.Order.ToList() : plan.Nodes.Select(n => n.Name).ToList();
        var all = string.Join(", ", plan.Nodes.Select(n => n.ErlangNode));
        list.Add(
            list.New(
                StepKind.CheckCluster,
                $"check the cluster: every node started, {plan.MembershipName} = [{all}]"
            ) with
            {
                Nodes = order,
            }
        );
        if (plan.Product.Kind == ProductKind.MongooseIm)
        {
            list.Add(
                list.New(
                    StepKind.ListMigrations,
                    $"list the migration guides from the running version to {plan.Upgrade.TargetVersion}"
                )
            );
        }

        var batches = order.Chunk(strategy.BatchSize).ToList();
        for (var b = 0; b < batches.Count; b++)
        {
            list.Batch = b;
            AddBatch(plan, list, batches[b]);
            list.Batch = null;
            if (strategy.WaitForPromoteAfter == b + 1)
            {
                var upgraded = batches.Take(b + 1).SelectMany(n => n).ToList();
                var metricGates = plan.Gates.Where(g => g.Kind == GateKinds.Prometheus).Select(g => g.Name).ToList();
                list.Add(
                    list.New(
                        StepKind.AwaitPromote,
                        metricGates.Count > 0
                            ? $"canary: hold with {string.Join(", ", upgraded)} on {plan.Upgrade.TargetVersion} "
                                + $"while the metric gates ({string.Join(", ", metricGates)}) measure, or until "
                                + "`rollingupgrade promote`"
                            : $"canary: hold with {string.Join(", ", upgraded)} on {plan.Upgrade.TargetVersion} "
                                + "until `rollingupgrade promote`"
                    ) with
                    {
                        Gates = metricGates,
                    }
                );
            }

            if (b < batches.Count - 1 && (strategy.WaitForPromoteAfter ?? 0) <= b + 1)
            {
                AddVersionAffinity(plan, list, batches.Take(b + 1).SelectMany(n => n), batches.Skip(b + 1));
            }

            if (strategy.PauseBetweenNodes > TimeSpan.Zero && b < batches.Count - 1)
            {
                list.Add(
                    list.New(
                        StepKind.Pause,
                        $"pause {DurationText.Format(strategy.PauseBetweenNodes)} before the next node"
                    ) with
                    {
                        Pause = strategy.PauseBetweenNodes,
                    }
                );
            }
        }

        list.Add(
            list.New(
                StepKind.VerifyCluster,
                $"verify the cluster: every node on {plan.Upgrade.TargetVersion}, {plan.MembershipName} = [{all}]"
            ) with
            {
                Nodes = order,
                ExpectedVersion = VersionAfter(plan, list),
            }
        );
        return list.Steps;
    }

    /// <summary>
    /// Version affinity, after a batch is back in rotation (and after the canary's hold): in each balancer that
    /// keeps a drained server's connections, the nodes still to upgrade take no new sessions, so clients that
    /// reconnect (evicted from the next node, or on their own) land on upgraded nodes and are not cut again.
    /// ELBv2 ends a deregistered target's connections after its deregistration delay, so it is left as it is.
    /// </summary>
    private static void AddVersionAffinity(
        Plan plan,
        StepListBuilder list,
        IEnumerable<string> upgraded,
        IEnumerable<string[]> remaining
    )
    {
        var strategy = (RollingStrategySpec)plan.Strategy;
        if (!strategy.VersionAffinity || plan.Upgrade.Install is null)
        {
            return;
        }

        var old = remaining.SelectMany(n => n).ToList();
        var upgradedText = string.Join(", ", upgraded);
        foreach (var lb in plan.LoadBalancers.Where(LoadBalancerKinds.KeepsDrainedConnections))
        {
            list.Add(
                list.New(
                    StepKind.PreferUpgraded,
                    $"version affinity in {lb.Name}: new sessions go to the upgraded nodes ({upgradedText}); "
                        + Held(old),
                    [.. old]
                ) with
                {
                    LoadBalancer = lb.Name,
                    Capacity = new CapacityRule(plan.Nodes.Select(n => n.Name).ToList(), strategy.CapacityNodes),
                }
            );
        }
    }

    /// <summary>"n2, n3 keep their sessions and take no new ones", or "n3 keeps its ...".</summary>
    internal static string Held(IReadOnlyList<string> nodes) =>
        nodes.Count == 1
            ? $"{nodes[0]} keeps its sessions and takes no new ones"
            : $"{string.Join(", ", nodes)} keep their sessions and take no new ones";

    /// <summary>
    /// What the nodes must report once a batch is back: the version of the list going back, the
    /// target going forward when something is installed, nothing to check for a config change.
    /// </summary>
    private static string? VersionAfter(Plan plan, StepListBuilder list) =>
        list.Phase == RunPhase.Rollback
            ? (list.Version.Length > 0 ? list.Version : null)
            : (plan.Upgrade.Install is not null ? list.Version : null);

    /// <summary>
    /// The forward steps for one batch; also used, on a rollback list, to roll an upgraded batch back.
    /// </summary>
    internal static void AddBatch(Plan plan, StepListBuilder list, IReadOnlyList<string> batch)
    {
        var rollback = list.Phase == RunPhase.Rollback;
        var expected = VersionAfter(plan, list);
        var strategy = (RollingStrategySpec)plan.Strategy;
        // The batch is out together: each drain checks the capacity rule with the whole batch counted out, so drains
        // that run at once cannot each count the other as serving.
        var capacity = new CapacityRule(plan.Nodes.Select(n => n.Name).ToList(), strategy.CapacityNodes)
        {
            Together = batch.Count > 1 ? [.. batch] : [],
        };
        var together = !rollback && batch.Count > 1 && strategy.BatchParallel;
        list.NewWave(together);
        foreach (var node in batch)
        {
            foreach (var lb in plan.LoadBalancers)
            {
                if (lb == plan.LoadBalancers[0])
                {
                    list.Serving--;
                }

                list.Add(
                    list.New(StepKind.Drain, $"drain {node} in {lb.Name} (no new connections)", node) with
                    {
                        LoadBalancer = lb.Name,
                        Capacity = capacity,
                    }
                );
            }
        }

        if (plan.LoadBalancers.Count == 0)
        {
            list.Serving -= batch.Count;
        }

        list.NewWave(together);
        foreach (var node in batch)
        {
            list.Add(
                list.New(
                    StepKind.WaitDrained,
                    $"wait until {node} has no live connections ({plan.Strategy.Drain.ZeroReadings} zero readings in "
                        + $"a row; then: {plan.Strategy.Drain.OnTimeout.ToString().ToLowerInvariant()} after "
                        + $"{DurationText.Format(plan.Strategy.Drain.Timeout)})",
                    node
                )
            );
        }

        list.NewWave(together);
        foreach (var node in batch)
        {
            list.Add(list.New(StepKind.Stop, $"stop {node}", node));
        }

        list.NewWave(together);
        foreach (var node in batch)
        {
            if (rollback)
            {
                // Reinstall first, so the restored config is the one the node starts with.
                if (plan.Upgrade.RollbackInstall is not null)
                {
                    list.Add(list.New(StepKind.RollbackInstall, $"reinstall the previous version on {node}", node));
                }

                if (plan.Upgrade.BackupConfig && plan.Product.ConfigPath is not null)
                {
                    list.Add(list.New(StepKind.RestoreConfig, $"restore the config of {node} from its backup", node));
                }

                continue;
            }

            if (plan.Upgrade.BackupConfig && plan.Product.ConfigPath is not null)
            {
                list.Add(
                    list.New(
                        StepKind.BackupConfig,
                        $"back up the config of {node} ({plan.ConfigPathOf(plan.Node(node))})",
                        node
                    )
                );
            }

            list.Add(
                plan.Upgrade.Install is not null
                    ? list.New(StepKind.Install, $"install {plan.Upgrade.TargetVersion} on {node}", node)
                    : list.New(StepKind.ChangeConfig, $"change the config of {node}", node)
            );
        }

        // Mnesia: start in the reverse order of stopping, so the last node down comes up first (a batch that runs
        // together starts at once; the nodes still running hold the tables).
        list.NewWave(together);
        foreach (var node in batch.Reverse())
        {
            list.Add(
                list.New(StepKind.Start, $"start {node} and wait until it reports started", node) with
                {
                    ExpectedVersion = expected,
                }
            );
        }

        list.NewWave(together);
        foreach (var node in batch)
        {
            list.Add(
                list.New(
                    StepKind.VerifyNode,
                    $"verify {node}: status started, version {list.VersionText}, exact membership",
                    node
                ) with
                {
                    ExpectedVersion = expected,
                }
            );
            var gates = plan.Gates.Where(g => g.Kind != GateKinds.LoadBalancerErrors).Select(g => g.Name).ToList();
            if (gates.Count > 0)
            {
                list.Add(
                    list.New(StepKind.RunGates, $"gates on {node}: {string.Join(", ", gates)}", node) with
                    {
                        Gates = gates,
                    }
                );
            }
        }

        list.NewWave(together);
        foreach (var node in batch)
        {
            foreach (var lb in plan.LoadBalancers)
            {
                if (lb == plan.LoadBalancers[^1])
                {
                    list.Serving++;
                }

                list.Add(
                    list.New(StepKind.Enable, $"return {node} to rotation in {lb.Name}", node) with
                    {
                        LoadBalancer = lb.Name,
                    }
                );
            }
        }

        list.NewWave(false);
        if (plan.LoadBalancers.Count == 0)
        {
            list.Serving += batch.Count;
        }
    }
}
