using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Planning;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// Version affinity: once a node is upgraded and back, the nodes not yet upgraded take no new sessions (keeping their
/// own), so evicted clients land on upgraded nodes and are cut at most twice; a halt or a rollback gives the old
/// nodes their share again, and a resume holds them again.
/// </summary>
public sealed class VersionAffinityTests
{
    private const int PerNode = 6;

    private static RunHarness Run(string policy = "halt")
    {
        var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "10s", policy: policy));
        run.Adapters.Product.CanEvict = true;
        foreach (var node in run.World.Nodes.Values)
        {
            for (var i = 0; i < PerNode; i++)
            {
                node.SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
            }
        }

        return run;
    }

    [Fact(Timeout = 30_000)]
    public async Task Clients_evicted_after_the_first_node_is_upgraded_land_only_on_upgraded_nodes()
    {
        using var run = Run();
        var heldDuringWait = new List<string>();
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Kind == StepKind.WaitDrained && point == FaultPoint.BeforeExecute)
                {
                    heldDuringWait.Add(
                        $"{step.Node}: "
                            + string.Join(
                                ",",
                                run.Lb()
                                    .States.Where(s => s.Value == ServerAdminState.Drain)
                                    .Select(s => s.Key)
                                    .Order(StringComparer.Ordinal)
                            )
                    );
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        // n1's clients had only old nodes to go to; from then on, the nodes still to upgrade took no new sessions.
        heldDuringWait.ShouldBe(["n1: n1", "n2: n2,n3", "n3: n3"]);
        var reconnects = run.World.Reconnects;
        reconnects.Where(r => r.StartsWith("n2->", StringComparison.Ordinal)).ShouldAllBe(r => r == "n2->n1");
        reconnects.Where(r => r.StartsWith("n3->", StringComparison.Ordinal)).ShouldAllBe(r => r != "n3->n3");
        reconnects.ShouldNotContain(r => r.EndsWith("->n3", StringComparison.Ordinal) && !r.StartsWith("n1"));
        // Every client was cut once, and n1's clients a second time: clients x (N + 1) / N, the least in place.
        reconnects.Count.ShouldBe(3 * PerNode * 4 / 3);
        run.Events.Events.ShouldContain(e =>
            e.Type == RunEventTypes.Progress
            && e.Message == "lb-a: new sessions go to n1; n2, n3 keep their sessions and take no new ones"
        );
        run.Lb().States.Values.ShouldAllBe(s => s == ServerAdminState.Ready);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_halt_gives_the_held_nodes_new_sessions_again_and_a_resume_holds_them_again()
    {
        using var run = Run();
        run.World.Nodes["n2"].FailInstall = true;

        var halted = await run.RunAsync();

        halted.Status.ShouldBe(RunStatus.Halted, halted.Summary);
        run.Lb().States["n3"].ShouldBe(ServerAdminState.Ready);
        run.Lb().States["n2"].ShouldBe(ServerAdminState.Drain);
        run.Events.Events.ShouldContain(e =>
            e.Message == "n3 takes new sessions again in lb-a (version affinity ends with the run)"
        );
        // Only the node that failed is out: the one affinity held is not named as out of rotation.
        halted.Summary.ShouldContain("n2 out of rotation");
        halted.Summary.ShouldNotContain("n3 out of rotation");

        run.World.Nodes["n2"].FailInstall = false;
        var seen = run.Events.Events.Count;
        var resumed = await run.ResumeAsync(InFlightChoice.Retry);

        resumed.Status.ShouldBe(RunStatus.Succeeded, resumed.Summary);
        run.Events.Events.Skip(seen)
            .ShouldContain(e =>
                e.Message == "version affinity: n3 takes no new sessions in lb-a again (it keeps its own)"
            );
        run.World.Reconnects.Where(r => r.StartsWith("n2->", StringComparison.Ordinal)).ShouldAllBe(r => r == "n2->n1");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_rollback_first_gives_the_held_nodes_their_share_so_the_upgraded_node_can_be_drained()
    {
        using var run = Run(policy: "rollback");
        run.World.Nodes["n2"].FailInstall = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        run.World.Nodes["n1"].RunningVersion.ShouldNotBe("24.0");
        run.Lb().States.Values.ShouldAllBe(s => s == ServerAdminState.Ready);
    }

    [Fact(Timeout = 30_000)]
    public async Task No_node_is_held_when_the_upgraded_node_fails_its_health_check_in_the_balancer()
    {
        using var run = Run();
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "Enable:n1:lb-a" && point == FaultPoint.AfterRecord)
                {
                    run.Lb().Unhealthy.Add("n1");
                }
                else if (step.Id == "Drain:n2:lb-a" && point == FaultPoint.BeforeExecute)
                {
                    run.Lb().Unhealthy.Remove("n1");
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldContain(e =>
            e.Type == RunEventTypes.Warning
            && e.Message
                == "version affinity not applied in lb-a: no upgraded node is ready and healthy there; the nodes not "
                    + "yet upgraded keep taking new sessions"
        );
        // n3 was not held then: n2's own drain took it out alone, and n3's clients could still come to n3 then.
        run.Lb().Log.Take(4).ShouldBe(["n1=Drain", "n1=Ready", "n2=Drain", "n2=Ready"]);
    }
}
