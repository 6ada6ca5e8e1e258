using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private StrategySpec? BindStrategy(TableCursor? table)
    {
        if (table is null)
        {
            return null;
        }

        var kind = table.Choice("kind", ["rolling", "parallel"], required: true);
        var drain = BindDrain(table.Table("drain"));
        StrategySpec? spec = kind switch
        {
            "rolling" => BindRolling(table, drain),
            "parallel" => BindParallel(table, drain),
            _ => null,
        };
        if (kind is not null)
        {
            table.RejectUnknownKeys();
        }

        return spec;
    }

    private static DrainSpec BindDrain(TableCursor? table)
    {
        var spec = new DrainSpec();
        if (table is null)
        {
            return spec with { Defaulted = true };
        }

        var policy = table.Choice("on_timeout", ["fail", "evict", "stop"], fallback: "evict");
        var (rate, adaptive) = table.IntegerOrAuto("eviction_rate", min: 1, max: 100_000);
        spec = spec with
        {
            Timeout = table.Duration("timeout") ?? spec.Timeout,
            OnTimeout = policy switch
            {
                "evict" => DrainTimeoutPolicy.Evict,
                "stop" => DrainTimeoutPolicy.Stop,
                "fail" => DrainTimeoutPolicy.Fail,
                _ => DrainTimeoutPolicy.Evict,
            },
            EvictionRate = (int)(rate ?? spec.EvictionRate),
            AdaptivePace = adaptive,
            MaxEvictionRate = (int)(table.Integer("max_eviction_rate", min: 1, max: 100_000) ?? spec.MaxEvictionRate),
            PollInterval = table.Duration("poll_interval") ?? spec.PollInterval,
            ZeroReadings = (int)(table.Integer("zero_readings", min: 1, max: 100) ?? spec.ZeroReadings),
            PropagationTimeout = table.Duration("propagation_timeout", positive: true) ?? spec.PropagationTimeout,
            WaitTakeover = table.Duration("wait_takeover") ?? spec.WaitTakeover,
            TakeoverPercent = (int)(table.Integer("takeover_percent", min: 0, max: 100) ?? spec.TakeoverPercent),
        };
        if (adaptive || (spec.MaxEvictionRate < spec.EvictionRate && !table.Has("max_eviction_rate")))
        {
            spec = spec with { MaxEvictionRate = Math.Max(spec.MaxEvictionRate, adaptive ? 1 : spec.EvictionRate) };
        }
        else if (spec.MaxEvictionRate < spec.EvictionRate)
        {
            table.Sink.Error(
                table.LocationOf("max_eviction_rate"),
                $"'strategy.drain.max_eviction_rate' ({spec.MaxEvictionRate}/s) is below eviction_rate "
                    + $"({spec.EvictionRate}/s); raise it or lower eviction_rate"
            );
        }

        if (spec.PollInterval < TimeSpan.FromMilliseconds(50))
        {
            table.Sink.Error(table.LocationOf("poll_interval"), "'strategy.drain.poll_interval' must be at least 50ms");
        }

        table.RejectUnknownKeys();
        return spec;
    }

    private RollingStrategySpec? BindRolling(TableCursor table, DrainSpec drain)
    {
        var capacity = table.Integer("capacity_nodes", required: true, min: 1, max: 10_000);
        var spec = new RollingStrategySpec(drain)
        {
            CapacityNodes = (int)(capacity ?? 1),
            BatchSize = (int)(table.Integer("batch_size", min: 1, max: 10_000) ?? 1),
            BatchParallel = table.Bool("batch_parallel") ?? true,
            PauseBetweenNodes = table.Duration("pause_between_nodes") ?? TimeSpan.Zero,
            MaxMixedVersionWindow = table.Duration("max_mixed_version_window"),
            Order = table.StringArray("order") ?? [],
            WaitForPromoteAfter = (int?)table.Integer("wait_for_promote_after", min: 1, max: 10_000),
            VersionAffinity = table.Bool("version_affinity") ?? true,
        };
        return capacity is null ? null : spec;
    }

    private ParallelStrategySpec? BindParallel(TableCursor table, DrainSpec drain)
    {
        var green = BindNodes(table.TableArray("green_nodes", required: true));
        var steps = table.IntegerArray("traffic_steps", required: true);
        var promoteAt = table.IntegerArray("wait_for_promote_at") ?? [];
        var rollbackMode = table.Choice("rollback_mode", ["immediate", "stepped"], fallback: "immediate");
        var spec = new ParallelStrategySpec(drain)
        {
            GreenNodes = green,
            Provision = Commands(table, "provision"),
            Start = Command(table, "start"),
            TrafficSteps = steps?.Select(s => (int)Math.Clamp(s, int.MinValue, int.MaxValue)).ToList() ?? [],
            StepPause = table.Duration("step_pause") ?? TimeSpan.Zero,
            StepGates = table.StringArray("step_gates") ?? [],
            WaitForPromoteAt = promoteAt.Select(s => (int)Math.Clamp(s, int.MinValue, int.MaxValue)).ToList(),
            KeepOldClusterFor = table.Duration("keep_old_cluster_for") ?? TimeSpan.Zero,
            RollbackMode = rollbackMode == "stepped" ? TrafficRollbackMode.Stepped : TrafficRollbackMode.Immediate,
        };

        if (steps is not null)
        {
            CheckTrafficSteps(table, steps);
        }

        foreach (var at in promoteAt.Where(p => steps is not null && !steps.Contains(p)))
        {
            sink.Error(
                table.LocationOf("wait_for_promote_at"),
                $"'strategy.wait_for_promote_at' holds {at}, which is not one of 'strategy.traffic_steps'"
            );
        }

        return steps is null ? null : spec;
    }

    private void CheckTrafficSteps(TableCursor table, IReadOnlyList<long> steps)
    {
        var location = table.LocationOf("traffic_steps");
        if (steps.Count == 0)
        {
            sink.Error(
                location,
                "'strategy.traffic_steps' is empty; write the green share of traffic at each step, "
                    + "such as [10, 50, 100]"
            );
            return;
        }

        if (steps.Any(s => s is < 1 or > 100))
        {
            sink.Error(
                location,
                "'strategy.traffic_steps' values are percentages of traffic on the new cluster; each must be between "
                    + "1 and 100"
            );
        }

        for (var i = 1; i < steps.Count; i++)
        {
            if (steps[i] <= steps[i - 1])
            {
                sink.Error(
                    location,
                    $"'strategy.traffic_steps' must rise step by step; {steps[i]} follows {steps[i - 1]}"
                );
                break;
            }
        }

        if (steps[^1] != 100)
        {
            sink.Error(
                location,
                $"'strategy.traffic_steps' must end at 100 (all traffic on the new cluster); it ends at {steps[^1]}"
            );
        }
    }
}
