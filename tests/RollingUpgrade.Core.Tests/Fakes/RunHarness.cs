using Microsoft.Extensions.Time.Testing;
using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>A plan, a fake world, fake adapters, a fake clock and a temp state folder, ready to run.</summary>
internal sealed class RunHarness : IDisposable
{
    public RunHarness(string planText, Func<TimeProvider, FakeWorld>? world = null)
    {
        Plan = TestPlans.Load(planText);
        World = (world ?? (t => TestPlans.RollingWorld(t)))(Clock);
        Adapters = new FakeAdapters(World);
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    public Plan Plan { get; }

    public FakeWorld World { get; }

    public FakeAdapters Adapters { get; }

    public RecordingObserver Events { get; } = new();

    public string StateRoot { get; } = Directory.CreateTempSubdirectory("ru-test-").FullName;

    public FakeLoadBalancer Lb(string name = "lb-a") => Adapters.LoadBalancers[name];

    /// <summary>Passed as <see cref="RunOptions.AdoptDrained"/>.</summary>
    public bool AdoptDrained { get; set; }

    public RunOptions Options(
        IRunFaults? faults = null,
        InFlightChoice choice = InFlightChoice.Verify,
        CancellationToken stop = default
    ) =>
        new()
        {
            StateRoot = StateRoot,
            Time = Clock,
            Observer = Events,
            Faults = faults,
            InFlight = choice,
            StopRequested = stop,
            AdoptDrained = AdoptDrained,
        };

    /// <param name="step">
    /// How far the fake clock moves at each turn (250 ms unless given): runs that wait for many minutes of fake time
    /// take a larger step, so they finish in a few seconds of real time even on a loaded machine.
    /// </param>
    public Task<RunOutcome> RunAsync(
        IRunFaults? faults = null,
        CancellationToken stop = default,
        TimeSpan? step = null
    ) => ClockDriver.RunAsync(Clock, () => Orchestrator.RunAsync(Plan, Adapters, Options(faults, stop: stop)), step);

    public Task<RunOutcome> ResumeAsync(InFlightChoice choice = InFlightChoice.Verify) =>
        ClockDriver.RunAsync(Clock, () => Orchestrator.ResumeAsync(Plan, Adapters, Options(choice: choice)));

    public IReadOnlyList<JournalRecord> Journal()
    {
        var state = new StateDirectory(StateRoot, Plan.Cluster.Name);
        return RollingUpgrade.Journaling.Journal.Read(state.JournalPath(state.CurrentRunId()!));
    }

    public void Dispose() => Directory.Delete(StateRoot, recursive: true);
}
