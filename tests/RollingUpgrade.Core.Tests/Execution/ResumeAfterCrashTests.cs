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
    public static TheoryData<int, string> RollingCrashPoints() => CrashPoints(RollingPlan);

    private static TheoryData<int, string> CrashPoints(string plan)
    {
        var data = new TheoryData<int, string>();
        var count = Planner.Create(TestPlans.Load(plan)).Steps.Count;
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
    public Task Rolling_run_killed_at_any_step_resumes_to_the_same_end_state(int crashStep, string pointName) =>
        KillAndResumeAsync(RollingPlan, t => TestPlans.RollingWorld(t), crashStep, Enum.Parse<FaultPoint>(pointName));

    private static async Task KillAndResumeAsync(
        string plan,
        Func<TimeProvider, FakeWorld> world,
        int crashStep,
        FaultPoint point
    )
    {
        var expected = await UninterruptedAsync(plan, world);
        using var run = new RunHarness(plan, world);
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

    /// <summary>Four nodes in batches of two through two balancers: the nodes of a batch go through each stage at once.</summary>
    private static readonly string BatchPlan = TestPlans.Rolling(
        nodes: 4,
        capacity: 2,
        batch: 2,
        loadBalancers: "lb-a,lb-b"
    );

    private static FakeWorld BatchWorld(TimeProvider time) => TestPlans.RollingWorld(time, nodes: 4);

    public static TheoryData<int, string> BatchCrashPoints() => CrashPoints(BatchPlan);

    /// <summary>
    /// A kill at any fault point of any step while the nodes of a batch go through a stage together: the step the
    /// kill hit is in flight, the other node's step of that stage ends (a kill -9 at that later instant).
    /// </summary>
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BatchCrashPoints))]
    public Task Batch_run_killed_at_any_step_resumes_to_the_same_end_state(int crashStep, string pointName) =>
        KillAndResumeAsync(BatchPlan, BatchWorld, crashStep, Enum.Parse<FaultPoint>(pointName));

    /// <summary>Each stage of a batch, by the kinds of its steps.</summary>
    public static TheoryData<string> BatchWaves()
    {
        var data = new TheoryData<string>();
        var steps = Planner.Create(TestPlans.Load(BatchPlan)).Steps;
        foreach (var wave in steps.Where(s => s.Wave is not null && s.Batch == 0).GroupBy(s => s.Wave))
        {
            data.Add(string.Join('+', wave.Select(s => s.Kind.ToString()).Distinct()));
        }

        return data;
    }

    /// <summary>
    /// A kill -9 while every step of a stage was in flight, after their effects and before any was recorded: the
    /// journal holds each one's start and no end. Resume reads back every one of them (not only the last), asks the
    /// operator about the ones that cannot be read back, and ends where an uninterrupted run ends.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BatchWaves))]
    public async Task Batch_killed_with_a_whole_stage_in_flight_settles_each_step_on_resume(string kinds)
    {
        var expected = await UninterruptedAsync(BatchPlan, BatchWorld);
        using var run = new RunHarness(BatchPlan, BatchWorld);
        var steps = Planner.Create(run.Plan).Steps;
        var wave = steps
            .Where(s => s.Wave is not null && s.Batch == 0)
            .GroupBy(s => s.Wave)
            .Select(g => g.ToList())
            .First(g => string.Join('+', g.Select(s => s.Kind.ToString()).Distinct()) == kinds);
        // The next stage is killed as each of its nodes begins it, before it does anything.
        var next = steps.First(s => s.Number > wave.Max(w => w.Number));
        var nextStage = steps
            .Where(s => s.Number == next.Number || (next.Wave is { } w && s.Wave == w))
            .Select(s => s.Number)
            .ToHashSet();
        await Should.ThrowAsync<SimulatedCrashException>(() =>
            run.RunAsync(new CrashAtAny(nextStage, FaultPoint.BeforeExecute))
        );
        // A node's steps in a stage run one after another: the last of each node's steps was in flight.
        var inFlight = wave.GroupBy(s => string.Join('+', s.Nodes)).Select(g => g.Max(s => s.Number)).ToHashSet();
        KeepOnly(
            run,
            r =>
                !(r.Type == JournalTypes.StepSucceeded && inFlight.Contains(r.Step ?? 0))
                && !(r.Type == JournalTypes.StepStarted && nextStage.Contains(r.Step ?? 0))
        );
        var resumedFrom = run.Journal().Count;

        var choice = InFlightChoice.Verify;
        if (wave.Any(s => !StepRunner.IsIdempotent(s, run.Plan)))
        {
            var blocked = await run.ResumeAsync();
            blocked.Status.ShouldBe(
                RunStatus.NeedsOperator,
                string.Join("\n", run.Journal().Select(r => $"{r.Type} {r.Phase} {r.Step} {r.StepId} {r.Message}"))
            );
            blocked.NextSteps.ShouldContain("--skip-in-flight");
            choice = InFlightChoice.Skip;
        }

        var outcome = await run.ResumeAsync(choice);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        Describe(run).ShouldBe(expected);
        var settled = run.Journal()
            .Skip(resumedFrom)
            .Where(r =>
                r.Type is JournalTypes.StepVerified or JournalTypes.StepSucceeded && inFlight.Contains(r.Step ?? 0)
            )
            .Select(r => r.Step!.Value)
            .ToHashSet();
        settled.ShouldBe(inFlight, ignoreOrder: true);
        // Every step whose effect can be read back was read back, each one, not run again (a return to rotation
        // without its record is drained again first, as a balancer that lost its state would be, so it runs again).
        var verified = run.Journal()
            .Skip(resumedFrom)
            .Where(r => r.Type == JournalTypes.StepVerified)
            .Select(r => r.Step!.Value)
            .ToHashSet();
        foreach (
            var step in wave.Where(s =>
                inFlight.Contains(s.Number)
                && s.Kind is StepKind.Drain or StepKind.Stop or StepKind.Start or StepKind.BackupConfig
            )
        )
        {
            verified.ShouldContain(step.Number, step.Description);
        }

        AllStepsAccountedFor(run, "forward", steps.Count);
    }

    /// <summary>Rewrites the run's journal with only the records <paramref name="keep"/> accepts.</summary>
    private static void KeepOnly(RunHarness run, Func<JournalRecord, bool> keep)
    {
        var state = new StateDirectory(run.StateRoot, run.Plan.Cluster.Name);
        var path = state.JournalPath(state.CurrentRunId()!);
        var records = run.Journal();
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        lines.Count.ShouldBe(records.Count);
        File.WriteAllLines(path, lines.Where((_, i) => keep(records[i])));
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

    /// <summary>A kill as each of <paramref name="steps"/> reaches <paramref name="point"/> (steps that run at once).</summary>
    private sealed class CrashAtAny(IReadOnlySet<int> steps, FaultPoint point) : IRunFaults
    {
        public void At(Step current, FaultPoint at, string currentPhase)
        {
            if (steps.Contains(current.Number) && at == point && currentPhase == "forward")
            {
                throw new SimulatedCrashException($"killed at step {current.Number} ({at})");
            }
        }
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
