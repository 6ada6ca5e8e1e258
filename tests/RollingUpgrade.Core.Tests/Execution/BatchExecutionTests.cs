using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// The nodes of a batch go through each stage at once: their steps overlap in the journal and a stage takes as long
/// as its slowest node; the capacity rule counts the whole batch out; one node's failure lets the others finish the
/// step they are in, then the run halts (or rolls back) saying where each node stands.
/// </summary>
public sealed class BatchExecutionTests
{
    private static string Plan(string extra = "", string policy = "halt") =>
        TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, policy: policy, extraStrategy: extra);

    private static FakeWorld World(TimeProvider time)
    {
        var world = TestPlans.RollingWorld(time, nodes: 4);
        foreach (var node in world.Nodes.Values)
        {
            node.StartTakes = TimeSpan.FromMinutes(1);
        }

        return world;
    }

    [Fact(Timeout = 30_000)]
    public async Task The_nodes_of_a_batch_start_together_and_the_stage_takes_as_long_as_one_start()
    {
        using var run = new RunHarness(Plan(), World);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.World.Nodes.Values.ShouldAllBe(n => n.Running && n.RunningVersion == "24.0" && n.Installs == 1);
        var journal = run.Journal();
        foreach (var (a, b) in new[] { ("n1", "n2"), ("n3", "n4") })
        {
            var startedA = At(journal, JournalTypes.StepStarted, $"Start:{a}");
            var startedB = At(journal, JournalTypes.StepStarted, $"Start:{b}");
            var endedA = At(journal, JournalTypes.StepSucceeded, $"Start:{a}");
            var endedB = At(journal, JournalTypes.StepSucceeded, $"Start:{b}");
            // Both began before either ended: one minute for the pair, not two.
            startedA.ShouldBeLessThan(endedB);
            startedB.ShouldBeLessThan(endedA);
            (new[] { endedA, endedB }.Max() - new[] { startedA, startedB }.Min()).ShouldBeLessThan(
                TimeSpan.FromSeconds(80)
            );
        }

        journal.Count(r => r.Type == JournalTypes.StepStarted).ShouldBe(Planner.Create(run.Plan).Steps.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task With_batch_parallel_off_the_nodes_of_a_batch_go_one_after_another()
    {
        using var run = new RunHarness(Plan("batch_parallel = false"), World);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var journal = run.Journal();
        At(journal, JournalTypes.StepStarted, "Start:n1")
            .ShouldBeGreaterThanOrEqualTo(At(journal, JournalTypes.StepSucceeded, "Start:n2"));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_batch_whose_drain_would_break_the_capacity_rule_is_refused_before_any_node_is_drained()
    {
        using var run = new RunHarness(Plan(), World);
        // n3 is in rotation but failing its health check: n1 and n2 out together would leave only n4 serving.
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().Unhealthy.Add("n3");

        var outcome = await run.RunAsync(step: TimeSpan.FromSeconds(1));

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("with its batch (n1, n2) would leave 1 serving node(s) (n4)");
        run.Lb().Log.ShouldBeEmpty();
        run.World.Nodes.Values.ShouldAllBe(n => n.Running && n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task One_node_failing_lets_the_other_finish_its_step_then_halts_saying_where_each_node_stands()
    {
        using var run = new RunHarness(Plan(), World);
        run.World.Nodes["n2"].FailInstall = true;
        // n2 fails 20 s into its install, long after n1 has finished its own: the order is fixed.
        run.World.Nodes["n2"].InstallTakes = TimeSpan.FromSeconds(20);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("n1: last done 'install 24.0 on n1'");
        outcome.Summary.ShouldContain("n2 failed at 'install 24.0 on n2'");
        outcome.Summary.ShouldContain("n1, n2 out of rotation");
        outcome.Summary.ShouldContain("n3, n4 serving");
        // n1 finished its install but was not started: the run halted at the stage's end.
        run.World.Nodes["n1"].Installs.ShouldBe(1);
        run.Adapters.Product.Log.ShouldNotContain("start n1");
        run.World.Nodes["n3"].Running.ShouldBeTrue();
        run.World.Nodes["n4"].Running.ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task One_node_failing_with_rollback_policy_brings_the_whole_batch_back_on_the_old_version()
    {
        using var run = new RunHarness(Plan(policy: "rollback"), World);
        run.World.Nodes["n2"].FailInstall = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        foreach (var name in new[] { "n1", "n2", "n3", "n4" })
        {
            var node = run.World.Nodes[name];
            node.Running.ShouldBeTrue(name);
            node.RunningVersion.ShouldBe("23.01", name);
            run.Lb().States.GetValueOrDefault(name, ServerAdminState.Ready).ShouldBe(ServerAdminState.Ready, name);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Two_nodes_failing_in_the_same_stage_are_both_named()
    {
        using var run = new RunHarness(Plan(), World);
        foreach (var name in new[] { "n1", "n2" })
        {
            run.World.Nodes[name].FailInstall = true;
            run.World.Nodes[name].InstallTakes = TimeSpan.FromSeconds(20);
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("n1 failed at 'install 24.0 on n1'");
        outcome.Summary.ShouldContain("n2 failed at 'install 24.0 on n2'");
        outcome.Summary.ShouldContain("(install 24.0 on n2) failed too");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_nodes_of_a_batch_share_the_eviction_pace_so_the_serving_nodes_see_the_plans_pace()
    {
        // Two nodes of a batch, 20 sessions each that never end; after the 10 s timeout they are evicted at the plan's
        // 2/s in all: 1/s each, so 20 s, not 10.
        var plan = TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, onTimeout: "evict", timeout: "10s");
        using var run = new RunHarness(plan, t => TestPlans.RollingWorld(t, nodes: 4));
        foreach (var name in new[] { "n1", "n2" })
        {
            for (var i = 0; i < 20; i++)
            {
                run.World.Nodes[name].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
            }
        }

        var outcome = await run.RunAsync(step: TimeSpan.FromMilliseconds(500));

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        // 40 from the first batch, then the same clients again from n3 and n4, where they reconnected.
        run.Lb().Evicted.ShouldBe(80);
        var journal = run.Journal();
        foreach (var name in new[] { "n1", "n2" })
        {
            var waited =
                At(journal, JournalTypes.StepSucceeded, $"WaitDrained:{name}")
                - At(journal, JournalTypes.StepStarted, $"WaitDrained:{name}");
            waited.ShouldBeGreaterThan(TimeSpan.FromSeconds(10 + 18), name);
            waited.ShouldBeLessThan(TimeSpan.FromSeconds(10 + 30), name);
        }

        run.Events.Events.ShouldContain(e =>
            e.Message.Contains("n1 still has 20 live connection(s) after 10s; evicting 1/s")
        );
    }

    private static DateTimeOffset At(IReadOnlyList<JournalRecord> journal, string type, string stepId) =>
        journal.First(r => r.Type == type && r.StepId == stepId && r.Phase == "forward").At;
}
