using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>A step that waits says so every 10 s: what it waits for, the counts now and the time left.</summary>
public sealed class HeartbeatTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_long_drain_beats_every_10_s_with_its_counts_and_time_left_then_its_eviction()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "30s"));
        // n1 holds two sessions that never end by themselves: 30 s of waiting, then eviction at 2/s.
        run.World.Nodes["n1"].SessionEnds.Add(DateTimeOffset.MaxValue);
        run.World.Nodes["n1"].SessionEnds.Add(DateTimeOffset.MaxValue);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var beats = run.Events.Events.Where(e => e.Type == RunEventTypes.Heartbeat && e.Node == "n1").ToList();
        var waiting = beats.Where(b => b.Message.Contains("still waiting for n1's live connections")).ToList();
        waiting.Count.ShouldBeGreaterThanOrEqualTo(2, string.Join("\n", beats.Select(b => b.Message)));
        waiting[0].Message.ShouldContain("2 at the load balancers");
        waiting[0].Message.ShouldContain("10s elapsed, 20s left (then evicting 2/s)");
        waiting[1].Message.ShouldContain("20s elapsed, 10s left");
        waiting[1].Data!["left_s"].ShouldBe("10");
        var gaps = beats.Zip(beats.Skip(1), (a, b) => b.At - a.At).ToList();
        gaps.ShouldAllBe(gap => gap <= TimeSpan.FromSeconds(10.5));
    }

    [Fact(Timeout = 30_000)]
    public async Task Steps_shorter_than_the_interval_never_beat()
    {
        using var run = new RunHarness(TestPlans.Rolling());

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldNotContain(e => e.Type == RunEventTypes.Heartbeat);
    }
}
