using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// Kills the run after every single step in turn (at each fault point), resumes, and checks the
/// end state equals an uninterrupted run's: same versions, configs, balancer states, one install per node.
/// </summary>
public sealed class ResumeAfterCrashTests
{
    private static readonly string RollingPlan = TestPlans.Rolling(nodes: 3, loadBalancers: "lb-a,lb-b");

    /// <summary>Every step with every fault point, by name (the fault points are internal to the engine).</summary>
    public static TheoryData<int, string> RollingCrashPoints()
    {
        var data = new TheoryData<int, string>();
        var count = Planner.Create(TestPlans.Load(RollingPlan)).Steps.Count;
        for (var step = 1; step <= count; step++)
        {
            foreach (var point in Enum.GetValues<FaultPoint>())
            {
                data.Add(step, point.ToString());
            }
        }

        return data;
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(RollingCrashPoints))]
    public async Task Rolling_run_killed_at_any_step_resumes_to_the_same_end_state(int crashStep, string pointName)
    {
        var point = Enum.Parse<FaultPoint>(pointName);
        var expected = await UninterruptedAsync(RollingPlan, t => TestPlans.RollingWorld(t));
        using var run = new RunHarness(RollingPlan);
        var step = Planner.Create(run.Plan).Steps[crashStep - 1];

        await Should.ThrowAsync<SimulatedCrashException>(() => run.RunAsync(new CrashAt(crashStep, point, "forward")));

        var choice = InFlightChoice.Verify;
        if (!StepRunner.IsIdempotent(step, run.Plan) && point != FaultPoint.AfterRecord)
        {
            var blocked = await run.ResumeAsync();
            blocked.Status.ShouldBe(RunStatus.NeedsOperator, blocked.Summary);
            blocked.NextSteps.ShouldContain("--retry-in-flight");
            choice = point == FaultPoint.BeforeExecute ? InFlightChoice.Retry : InFlightChoice.Skip;
        }

        var outcome = await run.ResumeAsync(choice);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        Describe(run).ShouldBe(expected);
        AllStepsAccountedFor(run, "forward", Planner.Create(run.Plan).Steps.Count);
    }

    public static TheoryData<int> RollbackCrashPoints()
    {
        var data = new TheoryData<int>();
        for (var step = 1; step <= 17; step++)
        {
            data.Add(step);
        }

        return data;
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(RollbackCrashPoints))]
    public async Task Rollback_killed_at_any_step_resumes_to_the_same_end_state(int crashStep)
    {
        var plan = TestPlans.Rolling(nodes: 3, policy: "rollback");
        static FakeWorld World(TimeProvider t)
        {
            var world = TestPlans.RollingWorld(t);
            world.Nodes["n2"].StartsWithVersion = "25.0";
            return world;
        }

        var expected = await UninterruptedAsync(plan, World, RunStatus.RolledBack);
        using var run = new RunHarness(plan, World);
        var crash = new CrashAt(crashStep, FaultPoint.AfterRecord, "rollback");

        var first = await Record.ExceptionAsync(() => run.RunAsync(crash));
        if (first is null)
        {
            // The rollback has fewer steps than this crash point.
            Describe(run).ShouldBe(expected);
            return;
        }

        first.ShouldBeOfType<SimulatedCrashException>();
        var outcome = await run.ResumeAsync();

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary);
        Describe(run).ShouldBe(expected);
    }

    private static async Task<string> UninterruptedAsync(
        string plan,
        Func<TimeProvider, FakeWorld> world,
        RunStatus status = RunStatus.Succeeded
    )
    {
        using var run = new RunHarness(plan, world);
        var outcome = await run.RunAsync();
        outcome.Status.ShouldBe(status, outcome.Summary);
        return Describe(run);
    }

    private static string Describe(RunHarness run) =>
        run.World.Describe()
        + "\n"
        + string.Join(
            "\n",
            run.Adapters.LoadBalancers.OrderBy(l => l.Key, StringComparer.Ordinal)
                .Select(l =>
                    l.Key
                    + ": "
                    + string.Join(
                        ",",
                        l.Value.States.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")
                    )
                )
        );

    private static void AllStepsAccountedFor(RunHarness run, string phase, int count)
    {
        var done = run.Journal()
            .Where(r => r.Phase == phase && r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified)
            .Select(r => r.Step!.Value)
            .ToHashSet();
        done.ShouldBe(Enumerable.Range(1, count).ToHashSet(), ignoreOrder: true);
    }

    private sealed class CrashAt(int step, FaultPoint point, string phase) : IRunFaults
    {
        private bool _fired;

        public void At(Step current, FaultPoint at, string currentPhase)
        {
            if (!_fired && current.Number == step && at == point && currentPhase == phase)
            {
                _fired = true;
                throw new SimulatedCrashException($"killed at step {step} ({at})");
            }
        }
    }
}
