using RollingUpgrade.Planning;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Planning;

/// <summary>The time a plan will take, from its own settings, live session counts and the last run.</summary>
public sealed class ForecastTests
{
    [Fact]
    public void A_drain_with_live_sessions_lasts_its_timeout_then_its_eviction_and_with_none_only_its_settling()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(onTimeout: "evict", timeout: "2m"));
        var steps = Planner.Create(plan);
        var wait = steps.Steps.First(s => s.Kind == StepKind.WaitDrained && s.Node == "n1");
        var idle = steps.Steps.First(s => s.Kind == StepKind.WaitDrained && s.Node == "n2");

        var forecast = Forecast.Create(plan, steps, new Dictionary<string, long> { ["n1"] = 10, ["n2"] = 0 });

        // 2 minutes, then 10 sessions at 2/s, then three zero readings a second apart.
        forecast.For(wait.Number)!.Expected.ShouldBe(TimeSpan.FromSeconds(120 + 5 + 3));
        forecast.For(wait.Number)!.Basis.ShouldContain("10 live session(s) now");
        forecast.For(idle.Number)!.Expected.ShouldBe(TimeSpan.FromSeconds(3));
        forecast.For(idle.Number)!.Worst.ShouldBe(TimeSpan.FromSeconds(120 + 3));
    }

    [Fact]
    public void Without_session_counts_an_evicting_drain_has_no_upper_bound_and_the_total_says_so()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(onTimeout: "evict", timeout: "1m"));

        var forecast = Forecast.Create(plan, Planner.Create(plan));

        forecast.Worst.ShouldBeNull();
        Forecast.Text(forecast.Expected, forecast.Worst).ShouldEndWith("no upper bound");
        forecast.Expected.ShouldBeGreaterThan(TimeSpan.FromMinutes(3), "three drains of a minute each");
    }

    [Fact]
    public void Starts_are_bounded_by_the_start_timeout_and_expected_from_the_last_run_when_there_is_one()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(onTimeout: "fail"));
        var steps = Planner.Create(plan);
        var start = steps.Steps.First(s => s.Kind == StepKind.Start);

        var fresh = Forecast.Create(plan, steps);
        var learned = Forecast.Create(
            plan,
            steps,
            past: new Dictionary<string, TimeSpan> { [start.Id] = TimeSpan.FromSeconds(42) }
        );

        fresh.For(start.Number)!.Worst.ShouldBe(plan.Product.StartTimeout);
        learned.For(start.Number)!.Expected.ShouldBe(TimeSpan.FromSeconds(42));
        learned.For(start.Number)!.Basis.ShouldStartWith("last run");
        fresh.Worst.ShouldNotBeNull("every wait of this plan is bounded");
        fresh.Worst!.Value.ShouldBe(TimeSpan.FromTicks(fresh.Steps.Sum(s => s.Worst!.Value.Ticks)));
    }

    [Fact]
    public void The_mixed_version_window_runs_from_the_first_start_on_the_target_to_the_end()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(onTimeout: "fail"));
        var steps = Planner.Create(plan);
        var forecast = Forecast.Create(plan, steps);
        var firstStart = steps.Steps.First(s => s.Kind == StepKind.Start).Number;

        var expected = forecast
            .Steps.Where(s => s.Step >= firstStart)
            .Aggregate(TimeSpan.Zero, (t, s) => t + s.Expected);

        forecast.ExpectedMixed.ShouldBe(expected);
        forecast.ExpectedMixed.ShouldBeLessThan(forecast.Expected);
    }

    [Fact]
    public void A_batch_that_runs_together_takes_as_long_as_its_slowest_node_not_the_sum()
    {
        var together = TestPlans.Load(TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2));
        var inTurn = TestPlans.Load(
            TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, extraStrategy: "batch_parallel = false")
        );
        var idle = new Dictionary<string, long>
        {
            ["n1"] = 0,
            ["n2"] = 0,
            ["n3"] = 0,
            ["n4"] = 0,
        };

        var fast = Forecast.Create(together, Planner.Create(together), idle);
        var slow = Forecast.Create(inTurn, Planner.Create(inTurn), idle);

        // Per step the same; in all, each stage counts once per batch instead of once per node.
        fast.Steps.Select(s => s.Expected).ShouldBe(slow.Steps.Select(s => s.Expected));
        var perNode = slow.Steps.Where(s => s.Step > 1).Sum(s => s.Expected.Ticks) / 2;
        fast.Expected.ShouldBeLessThan(slow.Expected);
        (slow.Expected - fast.Expected).Ticks.ShouldBeGreaterThan(perNode / 2);
    }
}
