using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>Load balancer state is read back and reconciled, never assumed: on resume, before every stop, at the start.</summary>
public sealed class ReconcileTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_node_back_in_rotation_before_its_stop_is_drained_again_and_waited_for()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        var lost = false;
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "WaitDrained:n2" && point == FaultPoint.AfterRecord && !lost)
                {
                    // The balancer restarts between the drain wait and the stop: n2 is in rotation again.
                    lost = true;
                    run.Lb().States["n2"] = ServerAdminState.Ready;
                    run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddSeconds(20));
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Lb().Log.Count(l => l == "n2=Drain").ShouldBe(2);
        run.Events.Events.ShouldContain(e =>
            e.Type == RunEventTypes.Warning && e.Message.Contains("n2 is back in rotation in lb-a")
        );
        var stop = run.World.Nodes["n2"];
        stop.Running.ShouldBeTrue();
        stop.RunningVersion.ShouldBe("24.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_balancer_that_loses_the_drain_during_the_wait_has_it_drained_again_within_the_wait()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        int? waitStep = null;
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "WaitDrained:n2" && point == FaultPoint.BeforeExecute && waitStep is null)
                {
                    // The balancer restarts while the run waits for n2's connections: n2 takes sessions again.
                    waitStep = step.Number;
                    run.Lb().States["n2"] = ServerAdminState.Ready;
                    run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddSeconds(5));
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Lb().Log.Count(l => l == "n2=Drain").ShouldBe(2);
        var warning = run.Events.Events.Single(e =>
            e.Type == RunEventTypes.Warning && e.Message.Contains("n2 is back in rotation in lb-a")
        );
        warning.Step.ShouldBe(waitStep);
        warning.Message.ShouldContain("restarted or reloaded");
    }

    [Fact(Timeout = 30_000)]
    public async Task Resume_drains_again_what_a_balancer_that_lost_its_state_put_back()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "Drain:n1:lb-a" && point == FaultPoint.AfterRecord)
                {
                    throw new SimulatedCrashException("killed after draining n1");
                }
            }
        );
        await Should.ThrowAsync<SimulatedCrashException>(() => run.RunAsync(faults));
        run.Lb().States.Clear();

        var outcome = await run.ResumeAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldContain(e =>
            e.Type == RunEventTypes.Warning
            && e.Message.Contains("n1 is in rotation in lb-a, but the run had drained it")
        );
        run.Lb().Log.Count(l => l == "n1=Drain").ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_new_run_refuses_a_node_left_drained_unless_told_to_adopt_it()
    {
        using var run = new RunHarness(TestPlans.Rolling(nodes: 3, capacity: 1));
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().States["n3"] = ServerAdminState.Drain;

        var refused = await run.RunAsync();

        refused.Status.ShouldBe(RunStatus.Halted);
        refused.Summary.ShouldContain("n3 is drain in lb-a, before this run touched anything");
        refused.Summary.ShouldContain("--adopt-drained");
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
        run.Lb().Log.ShouldBeEmpty();

        run.AdoptDrained = true;
        var adopted = await run.RunAsync();

        adopted.Status.ShouldBe(RunStatus.Succeeded, adopted.Summary);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_refused_drain_does_not_call_the_node_out_of_rotation()
    {
        using var run = new RunHarness(TestPlans.Rolling(nodes: 3, capacity: 2));
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().States["n3"] = ServerAdminState.Maintenance;
        run.AdoptDrained = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("Halted with n3 out of rotation; n1, n2 serving");
        outcome.NextSteps.ShouldNotContain("on n1");
    }
}
