namespace RollingUpgrade.Plans.Model;

public sealed record ParallelStrategySpec(DrainSpec Drain) : StrategySpec(Drain)
{
    public required IReadOnlyList<NodeSpec> GreenNodes { get; init; }

    public IReadOnlyList<CommandTemplate> Provision { get; init; } = [];

    public CommandTemplate? Start { get; init; }

    public required IReadOnlyList<int> TrafficSteps { get; init; }

    public TimeSpan StepPause { get; init; }

    /// <summary>Gate names checked after each traffic step; all plan gates when empty.</summary>
    public IReadOnlyList<string> StepGates { get; init; } = [];

    /// <summary>Traffic percentages at which the run waits for <c>rollingupgrade promote</c>.</summary>
    public IReadOnlyList<int> WaitForPromoteAt { get; init; } = [];

    public TimeSpan KeepOldClusterFor { get; init; }

    public TrafficRollbackMode RollbackMode { get; init; } = TrafficRollbackMode.Immediate;
}
