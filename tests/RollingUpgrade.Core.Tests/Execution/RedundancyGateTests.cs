using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// Before a node stops, every mnesia table with a copy on it must have a copy on a node that stays up: checked for
/// every batch before anything is touched, and again right before each stop.
/// </summary>
public sealed class RedundancyGateTests
{
    private static readonly string[] Everywhere = ["session", "passwd", "muc_room"];

    private static FakeWorld World(TimeProvider time, int nodes, Func<int, List<string>> tables)
    {
        var world = new FakeWorld(time);
        for (var i = 1; i <= nodes; i++)
        {
            world.Add($"n{i}", $"ejabberd{i}@127.0.0.{10 + i}", "23.01");
            world.Nodes[$"n{i}"].Tables = tables(i);
        }

        return world;
    }

    private static string Accepting(string plan, string tables) =>
        plan.Replace(
            "target_version = \"24.0\"",
            $"target_version = \"24.0\"\nsingle_copy_tables = [{tables}]",
            StringComparison.Ordinal
        );

    [Fact(Timeout = 30_000)]
    public async Task Tables_copied_on_every_node_let_the_run_go_through()
    {
        using var run = new RunHarness(TestPlans.Rolling(), t => World(t, 3, _ => [.. Everywhere]));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.World.Nodes.Values.ShouldAllBe(n => n.RunningVersion == "24.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_table_held_by_one_node_halts_before_anything_is_touched_naming_node_table_and_fix()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(),
            t => World(t, 3, i => i == 2 ? [.. Everywhere, "mod_local_only"] : [.. Everywhere])
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.FailedStep.ShouldBe(1);
        outcome.Summary.ShouldContain("n2 holds the only copy of mod_local_only");
        outcome.Summary.ShouldContain("mnesia:add_table_copy(");
        outcome.Summary.ShouldContain("single_copy_tables = [\"mod_local_only\"]");
        outcome.Summary.ShouldContain("nothing touched");
        run.Lb().SetCalls.ShouldBe(0);
        run.World.Nodes.Values.ShouldAllBe(n => n.Running && n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_batch_that_holds_every_copy_of_a_table_is_refused_even_when_each_node_has_one()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2),
            t => World(t, 4, i => i <= 2 ? [.. Everywhere, "pair_table"] : [.. Everywhere])
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("n1 holds the only copy of pair_table");
        outcome.Summary.ShouldContain("n2 holds the only copy of pair_table");
        outcome.Summary.ShouldContain("while they are stopped");
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Tables_the_plan_accepts_as_single_copy_do_not_stop_the_run()
    {
        using var run = new RunHarness(
            Accepting(TestPlans.Rolling(), "\"mod_local_only\""),
            t => World(t, 3, i => i == 2 ? [.. Everywhere, "mod_local_only"] : [.. Everywhere])
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_copy_lost_during_the_run_is_caught_right_before_the_stop_with_the_node_still_running()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(),
            t =>
            {
                var world = World(t, 3, i => i <= 2 ? [.. Everywhere, "shared_by_two"] : [.. Everywhere]);
                world.Nodes["n1"].TablesAfterStart = [.. Everywhere];
                return world;
            }
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("n2 holds the only copy of shared_by_two");
        run.World.Nodes["n1"].RunningVersion.ShouldBe("24.0");
        run.World.Nodes["n2"].Running.ShouldBeTrue("n2 was not stopped");
        run.World.Nodes["n2"].Installs.ShouldBe(0);
        run.World.Nodes["n3"].Running.ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_product_that_cannot_tell_its_tables_is_not_checked()
    {
        using var run = new RunHarness(TestPlans.Rolling(), t => World(t, 3, _ => null!));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldNotContain(e => e.Message.Contains("mnesia tables", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_copies_outside_the_leaving_nodes_count()
    {
        var tables = new Dictionary<string, IReadOnlyList<string>>
        {
            ["a"] = ["t1", "t2", "t3"],
            ["b"] = ["t1", "t2"],
            ["c"] = ["t1"],
        };

        var sole = RedundancyCheck.SoleCopies(tables, ["a", "b"], ["a", "b", "c"], ["t3"]);

        sole.Keys.ShouldBe(["a", "b"], ignoreOrder: true);
        sole["a"].ShouldBe(["t2"]);
        sole["b"].ShouldBe(["t2"]);
        RedundancyCheck.SoleCopies(tables, ["c"], ["a", "b"], []).ShouldBeEmpty();
    }
}
