namespace RollingUpgrade.Plans.Model;

public enum DrainTimeoutPolicy
{
    Fail,
    Evict,
    Stop,
}

/// <summary>How a node's or a cluster's live connections are brought to zero.</summary>
public sealed record DrainSpec
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public DrainTimeoutPolicy OnTimeout { get; init; } = DrainTimeoutPolicy.Fail;

    /// <summary>Sessions evicted per second after the deadline.</summary>
    public int EvictionRate { get; init; } = 10;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive zero readings that prove a drain is complete.</summary>
    public int ZeroReadings { get; init; } = 3;
}

public abstract record StrategySpec(DrainSpec Drain);

public sealed record RollingStrategySpec(DrainSpec Drain) : StrategySpec(Drain)
{
    public int BatchSize { get; init; } = 1;

    /// <summary>Nodes able to handle the traffic; a batch may take at most nodes minus this many out.</summary>
    public required int CapacityNodes { get; init; }

    public TimeSpan PauseBetweenNodes { get; init; }

    public TimeSpan? MaxMixedVersionWindow { get; init; }

    /// <summary>Node names in upgrade order; the plan's node order when empty.</summary>
    public IReadOnlyList<string> Order { get; init; } = [];
}

public enum TrafficRollbackMode
{
    Immediate,
    Stepped,
}

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
