using RollingUpgrade.Execution;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// A green MongooseIM cluster on CETS that shares the blue cluster's cluster_name and discovery backend joins it by
/// itself: the exact membership check of green catches it before any traffic moves, and says how to keep them apart.
/// </summary>
public sealed class CetsParallelTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_green_node_that_joined_the_blue_Cets_cluster_stops_the_cutover_with_the_fix()
    {
        var plan = TestPlans
            .Parallel()
            .Replace(
                "[product]\nkind = \"ejabberd\"",
                "[product]\nkind = \"mongooseim\"\ninternal_database = \"cets\"",
                StringComparison.Ordinal
            );
        using var run = new RunHarness(plan, TestPlans.ParallelWorld);
        run.World.Nodes["g1"].MembershipOverride = new Membership(
            ["green1@127.0.0.21", "green2@127.0.0.22", "blue1@127.0.0.11", "blue2@127.0.0.12"],
            []
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldNotBe(RunStatus.Succeeded);
        outcome.Summary.ShouldContain("The blue and green clusters merged (b1, b2 joined)");
        outcome.Summary.ShouldContain("give the green nodes another cluster_name");
        run.Lb().Percent.GetValueOrDefault("g1").ShouldBe(0);
    }
}
