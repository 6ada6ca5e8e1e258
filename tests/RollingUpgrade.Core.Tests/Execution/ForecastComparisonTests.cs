using System.Text.RegularExpressions;
using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>A run says, as each node begins, how far in it is against the plan's forecast, and at the end.</summary>
public sealed class ForecastComparisonTests
{
    /// <summary>
    /// The fake clock turns a little per millisecond of real time, so that the work between waits (journal writes,
    /// reads) costs a few fake seconds at most even on a loaded machine.
    /// </summary>
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(25);

    [Fact(Timeout = 60_000)]
    public async Task Each_node_says_where_the_run_stands_against_the_forecast_and_the_next_run_learns_from_it()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "30s"));
        // n2 holds a session that never ends: its drain lasts its 30 s timeout, then the eviction.
        run.World.Nodes["n2"].SessionEnds.Add(DateTimeOffset.MaxValue);

        var first = await run.RunAsync(step: Step);

        first.Status.ShouldBe(RunStatus.Succeeded, first.Summary);
        var lines = Messages(run, "into the run");
        lines.Count.ShouldBe(3, string.Join("\n", lines));
        lines[0].ShouldStartWith("node 1 of 3 (n1): ");
        lines[1].ShouldStartWith("node 2 of 3 (n2): ");
        // The drain forecast counts n2's connection as unknown; n3 starts after n2's 30 s wait and eviction.
        lines[2].ShouldStartWith("node 3 of 3 (n3): ");
        lines.ForEach(SaysWhereItStands);
        Messages(run, "the run took").Single().ShouldContain("the forecast was ~");

        var seen = run.Events.Events.Count;
        foreach (var node in run.World.Nodes.Values)
        {
            // n2's evicted client reconnected to n1: the second run starts from the same sessions as the first.
            node.SessionEnds.Clear();
            node.RunningVersion = node.InstalledVersion = "1.0";
        }

        run.World.Nodes["n2"].SessionEnds.Add(DateTimeOffset.MaxValue);

        var second = await run.RunAsync(step: Step);

        second.Status.ShouldBe(RunStatus.Succeeded, second.Summary);
        var again = Messages(run, "into the run", seen);
        again.Count.ShouldBe(3, string.Join("\n", again));
        again.ForEach(SaysWhereItStands);
        // The second run expects by node 3 what the first took to get there: each step's duration is learned (the
        // first forecast knew nothing of n2's 30 s wait and eviction).
        var took = Seconds(lines[2], @": (\S+) into the run");
        var expected = Seconds(again[2], @"\(~(\S+) expected by now\)");
        took.ShouldBeGreaterThan(TimeSpan.FromSeconds(30), lines[2]);
        (expected - took).Duration().ShouldBeLessThanOrEqualTo(Slack(took), $"{lines[2]}\n{again[2]}");
    }

    /// <summary>
    /// The verdict agrees with the figures: on the forecast within max(5 s, 10%), otherwise ahead or behind by the
    /// difference.
    /// </summary>
    private static void SaysWhereItStands(string line)
    {
        var into = Seconds(line, @": (\S+) into the run");
        var expected = Seconds(line, @"\(~(\S+) expected by now\)");
        var drift = into - expected;
        if (drift.Duration() <= Slack(expected))
        {
            line.ShouldContain(", on the forecast (");
        }
        else
        {
            line.ShouldContain(drift > TimeSpan.Zero ? " behind the forecast (" : " ahead of the forecast (");
        }
    }

    private static TimeSpan Slack(TimeSpan expected) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, expected.Ticks / 10));

    private static TimeSpan Seconds(string line, string pattern)
    {
        var match = Regex.Match(line, pattern);
        match.Success.ShouldBeTrue(line);
        DurationText.TryParse(match.Groups[1].Value, out var value).ShouldBeTrue(line);
        return value;
    }

    private static List<string> Messages(RunHarness run, string part, int skip = 0) =>
        run
            .Events.Events.Skip(skip)
            .Where(e => e.Type == RunEventTypes.Progress && e.Message.Contains(part, StringComparison.Ordinal))
            .Select(e => e.Message)
            .ToList();
}
