using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Planning;

/// <summary>
/// Blue-green: provision the green cluster, verify its own membership, move traffic in steps
/// with gates, then drain blue, wait for zero connections and stop it.
/// </summary>
internal static class ParallelStrategyPlanner
{
    public static IReadOnlyList<Step> Steps(Plan plan, ParallelStrategySpec strategy)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(strategy);
        var list = new StepListBuilder { Serving = plan.Nodes.Count, Version = plan.Upgrade.TargetVersion };
        var blue = plan.Nodes.Select(n => n.Name).ToArray();
        var green = strategy.GreenNodes.Select(n => n.Name).ToArray();
        list.Add(
            list.New(
                StepKind.CheckCluster,
                $"check the old (blue) cluster: {plan.MembershipName} = ["
                    + $"{string.Join(", ", plan.Nodes.Select(n => n.ErlangNode))}]",
                blue
            ) with
            {
                Side = ClusterSide.Blue,
            }
        );
        if (plan.Product.Kind == ProductKind.MongooseIm)
        {
            // The new cluster shares the database: its schema migrations come before green starts.
            list.Add(
                list.New(
                    StepKind.ListMigrations,
                    $"list the migration guides from the running version to {plan.Upgrade.TargetVersion}"
                )
            );
        }

        foreach (var node in green)
        {
            list.Add(
                list.New(
                    StepKind.ProvisionGreen,
                    $"provision {node} with {plan.Upgrade.TargetVersion} and start it",
                    node
                ) with
                {
                    Side = ClusterSide.Green,
                    ExpectedVersion = plan.Upgrade.TargetVersion,
                }
            );
        }

        foreach (var node in green.Skip(1))
        {
            list.Add(
                list.New(StepKind.JoinGreen, $"join {node} to the new cluster through {green[0]}", node) with
                {
                    Side = ClusterSide.Green,
                }
            );
        }

        list.Add(
            list.New(
                StepKind.VerifyGreen,
                $"verify the new (green) cluster: {plan.MembershipName} = ["
                    + $"{string.Join(", ", strategy.GreenNodes.Select(n => n.ErlangNode))}], no old node",
                green
            ) with
            {
                Side = ClusterSide.Green,
            }
        );
        var nodeGates = plan.Gates.Where(g => g.Kind != GateKinds.LoadBalancerErrors).Select(g => g.Name).ToList();
        foreach (var node in green.Where(_ => nodeGates.Count > 0))
        {
            list.Add(
                list.New(
                    StepKind.RunGates,
                    $"gates on {node} before it takes traffic: {string.Join(", ", nodeGates)}",
                    node
                ) with
                {
                    Gates = nodeGates,
                    Side = ClusterSide.Green,
                }
            );
        }

        foreach (var lb in plan.LoadBalancers)
        {
            list.Add(
                list.New(StepKind.RegisterGreen, $"register the green nodes in {lb.Name} with no traffic", green) with
                {
                    LoadBalancer = lb.Name,
                    GreenPercent = 0,
                    Side = ClusterSide.Green,
                }
            );
        }

        var stepGates =
            strategy.StepGates.Count > 0 ? strategy.StepGates.ToList() : plan.Gates.Select(g => g.Name).ToList();
        foreach (var percent in strategy.TrafficSteps)
        {
            foreach (var lb in plan.LoadBalancers)
            {
                list.Add(
                    list.New(
                        StepKind.ShiftTraffic,
                        $"move traffic in {lb.Name}: blue {100 - percent}% / green {percent}%",
                        green
                    ) with
                    {
                        LoadBalancer = lb.Name,
                        GreenPercent = percent,
                    }
                );
            }

            if (strategy.StepPause > TimeSpan.Zero)
            {
                list.Add(
                    list.New(
                        StepKind.Pause,
                        $"watch {DurationText.Format(strategy.StepPause)} at {percent}% green"
                    ) with
                    {
                        GreenPercent = percent,
                        Pause = strategy.StepPause,
                    }
                );
            }

            list.Add(
                list.New(
                    StepKind.RunGates,
                    $"gates at {percent}% green: membership, node health"
                        + $"{(stepGates.Count > 0 ? ", " + string.Join(", ", stepGates) : string.Empty)}",
                    green
                ) with
                {
                    Gates = stepGates,
                    GreenPercent = percent,
                    Side = ClusterSide.Green,
                }
            );
            if (strategy.WaitForPromoteAt.Contains(percent))
            {
                list.Add(
                    list.New(StepKind.AwaitPromote, $"wait at {percent}% green for `rollingupgrade promote`") with
                    {
                        GreenPercent = percent,
                    }
                );
            }
        }

        // Retiring blue needs a serving green node; the count is of green nodes only.
        var greenServes = new CapacityRule(green, 1);
        foreach (var node in blue)
        {
            foreach (var lb in plan.LoadBalancers)
            {
                list.Serving -= lb == plan.LoadBalancers[0] ? 1 : 0;
                list.Add(
                    list.New(StepKind.Drain, $"drain old node {node} in {lb.Name}", node) with
                    {
                        LoadBalancer = lb.Name,
                        Side = ClusterSide.Blue,
                        Capacity = greenServes,
                    }
                );
            }
        }

        foreach (var node in blue)
        {
            list.Add(
                list.New(StepKind.WaitDrained, $"wait until old node {node} has no live connections", node) with
                {
                    Side = ClusterSide.Blue,
                }
            );
        }

        if (strategy.KeepOldClusterFor > TimeSpan.Zero)
        {
            list.Add(
                list.New(
                    StepKind.Pause,
                    $"keep the old cluster running {DurationText.Format(strategy.KeepOldClusterFor)} for a fast "
                        + $"rollback",
                    blue
                ) with
                {
                    Side = ClusterSide.Blue,
                    Pause = strategy.KeepOldClusterFor,
                }
            );
        }

        foreach (var node in blue)
        {
            list.Add(
                list.New(
                    StepKind.StopBlue,
                    $"stop old node {node} (rollback is no longer possible after this)",
                    node
                ) with
                {
                    Side = ClusterSide.Blue,
                }
            );
        }

        return list.Steps;
    }
}
