using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

public sealed class ParallelExecutionTests
{
    private static RunHarness Harness(string plan) => new(plan, TestPlans.ParallelWorld);

    [Fact(Timeout = 30_000)]
    public async Task Provisions_green_moves_traffic_in_steps_then_retires_blue()
    {
        using var run = Harness(TestPlans.Parallel());

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.World.Nodes["g1"].Cluster.ShouldBe(run.World.Nodes["g2"].Cluster);
        run.World.Nodes["g1"].RunningVersion.ShouldBe("24.0");
        run.World.Nodes["b1"].Running.ShouldBeFalse();
        run.World.Nodes["b2"].Running.ShouldBeFalse();
        run.Lb()
            .Log.Where(l => l.StartsWith("green=", StringComparison.Ordinal))
            .ShouldBe(["green=0", "green=10", "green=50", "green=100"]);
        run.Lb().States["b1"].ShouldBe(ServerAdminState.Drain);
    }

    [Fact(Timeout = 30_000)]
    public async Task Green_servers_left_in_maintenance_are_made_ready_before_any_weight_moves_to_them()
    {
        using var run = Harness(TestPlans.Parallel());
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().States["g1"] = ServerAdminState.Maintenance;
        run.Lb().States["g2"] = ServerAdminState.Drain;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var log = run.Lb().Log;
        var firstWeight = log.IndexOf("green=10");
        log.IndexOf("g1=Ready").ShouldBeInRange(0, firstWeight);
        log.IndexOf("g2=Ready").ShouldBeInRange(0, firstWeight);
    }

    [Fact(Timeout = 30_000)]
    public async Task No_weight_moves_to_a_green_server_that_fails_its_health_check()
    {
        using var run = Harness(TestPlans.Parallel());
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().States["g1"] = ServerAdminState.Maintenance;
        run.Lb().Unhealthy.Add("g1");

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        outcome.Summary.ShouldContain("no weight moved in lb-a: g1 is ready but failing its health check");
        run.Lb().Log.Where(l => l.StartsWith("green=", StringComparison.Ordinal)).ShouldAllBe(l => l == "green=0");
        run.Lb().Percent["b1"].ShouldBeGreaterThan(0);
        run.World.Nodes["b1"].Running.ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task Blue_is_stopped_only_after_its_last_connection_closes()
    {
        using var run = Harness(TestPlans.Parallel());
        var closes = run.Clock.GetUtcNow().AddSeconds(40);
        run.World.Nodes["b2"].SessionEnds.Add(closes);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var stop = run.Journal().First(r => r.StepId == "StopBlue:b2:blue" && r.Type == JournalTypes.StepStarted).At;
        stop.ShouldBeGreaterThan(closes);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_halt_while_retiring_blue_names_the_green_nodes_that_serve()
    {
        using var run = Harness(TestPlans.Parallel());
        run.World.Nodes["b2"].SessionsAnswerGarbage = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("not a number");
        outcome.Summary.ShouldContain("b1, b2 out of rotation; g1, g2 serving");
        run.Lb().Percent["g1"].ShouldBe(50);
    }

    public static TheoryData<int> GatePoints() => new() { 10, 50, 100 };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(GatePoints))]
    public async Task A_failing_gate_at_any_step_returns_all_traffic_to_blue_and_drains_green(int failAt)
    {
        var gates = "[[gates]]\nname = \"errors\"\nkind = \"lb-errors\"\nmax_new_errors = 0\n";
        using var run = Harness(TestPlans.Parallel(gates: gates));
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (
                    step.Kind == StepKind.ShiftTraffic
                    && step.GreenPercent == failAt
                    && point == FaultPoint.AfterRecord
                )
                {
                    run.Lb().Errors += 5;
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        outcome.Summary.ShouldContain("counted 5 new error(s)");
        run.Lb().Percent["b1"].ShouldBe(50);
        run.Lb().Percent["b2"].ShouldBe(50);
        run.Lb().Percent["g1"].ShouldBe(0);
        run.Lb().States["g1"].ShouldBe(ServerAdminState.Drain);
        run.Lb().States["g2"].ShouldBe(ServerAdminState.Drain);
        run.World.Nodes["b1"].Running.ShouldBeTrue();
        run.Lb().Log.ShouldContain($"green={failAt}");
        run.Lb().Log.Last(l => l.StartsWith("green=", StringComparison.Ordinal)).ShouldBe("green=0");
    }

    [Fact(Timeout = 30_000)]
    public async Task Stepped_rollback_walks_traffic_back_down_the_steps()
    {
        var gates = "[[gates]]\nname = \"errors\"\nkind = \"lb-errors\"\n";
        using var run = Harness(TestPlans.Parallel(extra: "rollback_mode = \"stepped\"", gates: gates));
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Kind == StepKind.ShiftTraffic && step.GreenPercent == 100 && point == FaultPoint.AfterRecord)
                {
                    run.Lb().Errors += 1;
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.RolledBack);
        run.Lb()
            .Log.Where(l => l.StartsWith("green=", StringComparison.Ordinal))
            .ShouldBe(["green=0", "green=10", "green=50", "green=100", "green=50", "green=10", "green=0"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Green_membership_must_hold_only_the_green_nodes()
    {
        using var run = Harness(TestPlans.Parallel());
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Kind == StepKind.JoinGreen && point == FaultPoint.AfterRecord)
                {
                    run.World.Nodes["b1"].Cluster = run.World.Nodes["g1"].Cluster;
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("extra blue1@127.0.0.11");
        run.Lb().SetCalls.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Waits_for_promote_and_rollback_on_demand_returns_traffic()
    {
        using var run = Harness(TestPlans.Parallel(extra: "wait_for_promote_at = [50]"));
        var state = new StateDirectory(run.StateRoot, "test");
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Kind == StepKind.AwaitPromote && point == FaultPoint.BeforeExecute)
                {
                    File.WriteAllText(state.RollbackRequestPath, "requested");
                }
            }
        );

        // The promote wait never ends by itself; the rollback request is seen before the next step.
        var waiting = run.RunAsync(faults);
        await Task.Delay(300);
        File.WriteAllText(state.PromotePath, "50");
        var outcome = await waiting;

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        outcome.Summary.ShouldContain("rollback requested");
        run.Lb().Percent["g1"].ShouldBe(0);
        run.World.Nodes["b1"].Running.ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task Parallel_run_killed_after_any_step_resumes_to_the_same_end_state()
    {
        using var reference = Harness(TestPlans.Parallel());
        (await reference.RunAsync()).Status.ShouldBe(RunStatus.Succeeded);
        var expected = reference.World.Describe();
        var count = Planner.Create(reference.Plan).Steps.Count;

        for (var crash = 1; crash <= count; crash++)
        {
            using var run = Harness(TestPlans.Parallel());
            var target = crash;
            var faults = new ActionFaults(
                (step, point, phase) =>
                {
                    if (step.Number == target && point == FaultPoint.AfterRecord && phase == "forward")
                    {
                        throw new SimulatedCrashException("killed");
                    }
                }
            );
            await Should.ThrowAsync<SimulatedCrashException>(() => run.RunAsync(faults));

            var outcome = await run.ResumeAsync();

            outcome.Status.ShouldBe(RunStatus.Succeeded, $"crash after step {crash}: {outcome.Summary}");
            run.World.Describe().ShouldBe(expected, $"crash after step {crash}");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Rollback_on_demand_after_the_run_died_moves_traffic_back()
    {
        using var run = Harness(TestPlans.Parallel());
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Kind == StepKind.ShiftTraffic && step.GreenPercent == 50 && point == FaultPoint.AfterRecord)
                {
                    throw new SimulatedCrashException("laptop died");
                }
            }
        );
        await Should.ThrowAsync<SimulatedCrashException>(() => run.RunAsync(faults));
        run.Lb().Percent["g1"].ShouldBe(25);

        var outcome = await ClockDriver.RunAsync(
            run.Clock,
            () => Orchestrator.RollbackAsync(run.Plan, run.Adapters, run.Options())
        );

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Lb().Percent["g1"].ShouldBe(0);
        run.Lb().Percent["b1"].ShouldBe(50);
        run.Lb().States["g1"].ShouldBe(ServerAdminState.Drain);
    }

    [Fact(Timeout = 30_000)]
    public async Task Rollback_is_refused_once_the_old_cluster_is_stopped()
    {
        using var run = Harness(TestPlans.Parallel());
        (await run.RunAsync()).Status.ShouldBe(RunStatus.Succeeded);

        var outcome = await ClockDriver.RunAsync(
            run.Clock,
            () => Orchestrator.RollbackAsync(run.Plan, run.Adapters, run.Options())
        );

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("no longer possible");
        run.Lb().Percent["g1"].ShouldBe(50);
    }

    [Fact(Timeout = 30_000)]
    public async Task Promote_names_the_step_that_waits()
    {
        using var run = Harness(TestPlans.Parallel(extra: "wait_for_promote_at = [50]"));
        var waiting = run.RunAsync();
        var state = new StateDirectory(run.StateRoot, "test");
        RunOutcome promoted;
        do
        {
            await Task.Delay(50);
            promoted = await Orchestrator.PromoteAsync(run.Plan, run.Options());
        } while (promoted.Status != RunStatus.Succeeded);

        promoted.Summary.ShouldContain("from 50%");
        (await waiting).Status.ShouldBe(RunStatus.Succeeded);
        File.ReadAllText(state.PromotePath).ShouldBe("50");
    }
}
