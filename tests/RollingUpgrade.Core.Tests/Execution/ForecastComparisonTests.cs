using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>A run says, as each node begins, how far in it is against the plan's forecast, and at the end.</summary>
public sealed class ForecastComparisonTests
{
    [Fact(Timeout = 30_000)]
    public async Task Each_node_says_where_the_run_stands_against_the_forecast_and_the_next_run_learns_from_it()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "30s"));
        // n2 holds a session that never ends: its drain lasts its 30 s timeout, then the eviction.
        run.World.Nodes["n2"].SessionEnds.Add(DateTimeOffset.MaxValue);

        var first = await run.RunAsync();

        first.Status.ShouldBe(RunStatus.Succeeded, first.Summary);
        var lines = Messages(run, "into the run");
        lines.Count.ShouldBe(3, string.Join("\n", lines));
        // The fake clock turns while the run reads the cluster, so node 1 may begin a few seconds in.
        lines[0].ShouldMatch(@"^node 1 of 3 \(n1\): \d+s into the run, on the forecast");
        lines[1].ShouldStartWith("node 2 of 3 (n2): ");
        // The drain forecast counts n2's connection as unknown; n3 starts after n2's 30 s wait and eviction.
        lines[2].ShouldStartWith("node 3 of 3 (n3): ");
        Messages(run, "the run took").Single().ShouldContain("the forecast was ~");

        // The second run expects what the first took, step by step: node 3 begins as forecast.
        var seen = run.Events.Events.Count;
        foreach (var node in run.World.Nodes.Values)
        {
            // n2's evicted client reconnected to n1: the second run starts from the same sessions as the first.
            node.SessionEnds.Clear();
            node.RunningVersion = node.InstalledVersion = "1.0";
        }

        run.World.Nodes["n2"].SessionEnds.Add(DateTimeOffset.MaxValue);

        var second = await run.RunAsync();

        second.Status.ShouldBe(RunStatus.Succeeded, second.Summary);
        var again = Messages(run, "into the run", seen);
        again.Count.ShouldBe(3, string.Join("\n", again));
        again.ShouldAllBe(l => l.Contains("on the forecast"), string.Join("\n", again));
    }

    private static List<string> Messages(RunHarness run, string part, int skip = 0) =>
        run
            .Events.Events.Skip(skip)
            .Where(e => e.Type == RunEventTypes.Progress && e.Message.Contains(part, StringComparison.Ordinal))
            .Select(e => e.Message)
            .ToList();
}
