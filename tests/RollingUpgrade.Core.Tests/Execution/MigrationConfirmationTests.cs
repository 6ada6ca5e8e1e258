using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// A MongooseIM upgrade across a hop with a database schema change touches no node until the plan confirms
/// the migration was applied; a hop upstream refuses to roll names upstream's alternatives.
/// </summary>
public sealed class MigrationConfirmationTests
{
    private static string Plan(string from, string to, string applied = "") =>
        TestPlans
            .Rolling()
            .Replace("kind = \"ejabberd\"", "kind = \"mongooseim\"", StringComparison.Ordinal)
            .Replace(
                "target_version = \"24.0\"",
                $"target_version = \"{to}\"\n{(applied.Length > 0 ? $"migrations_applied = [{applied}]" : "")}",
                StringComparison.Ordinal
            );

    private static FakeWorld World(TimeProvider time, string version)
    {
        var world = new FakeWorld(time);
        for (var i = 1; i <= 3; i++)
        {
            world.Add($"n{i}", $"ejabberd{i}@127.0.0.{10 + i}", version);
        }

        return world;
    }

    [Fact(Timeout = 30_000)]
    public async Task A_schema_change_not_confirmed_halts_before_any_node_is_touched()
    {
        using var run = new RunHarness(Plan("6.1.0", "6.2.0"), t => World(t, "6.1.0"));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("changes the database schema at 6.1.0->6.2.0");
        outcome.Summary.ShouldContain("migrations_applied = [\"6.1.0->6.2.0\"]");
        outcome.Summary.ShouldContain("nothing touched");
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0 && n.Running);
        run.Lb().SetCalls.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_confirmed_schema_change_lets_the_run_go_on()
    {
        using var run = new RunHarness(Plan("6.1.0", "6.2.0", "\"6.1.0->6.2.0\""), t => World(t, "6.1.0"));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.World.Nodes.Values.ShouldAllBe(n => n.RunningVersion == "6.2.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_hop_upstream_refuses_to_roll_names_upstreams_alternatives()
    {
        using var run = new RunHarness(Plan("6.0.0", "6.1.0"), t => World(t, "6.0.0"));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("split-cluster rolling upgrade");
        outcome.Summary.ShouldContain("strategy kind = \"parallel\"");
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
    }
}
