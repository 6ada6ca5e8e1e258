namespace RollingUpgrade.Plans.Model;

public sealed record RollingStrategySpec(DrainSpec Drain) : StrategySpec(Drain)
{
    public int BatchSize { get; init; } = 1;

    /// <summary>
    /// The nodes of a batch go through each step together (drained together, stopped, installed, started and
    /// verified at once); false: one after another, as batches of one would, though still out together.
    /// </summary>
    public bool BatchParallel { get; init; } = true;

    /// <summary>Nodes able to handle the traffic; a batch may take at most nodes minus this many out.</summary>
    public required int CapacityNodes { get; init; }

    public TimeSpan PauseBetweenNodes { get; init; }

    /// <summary>
    /// A canary: after this many batches are upgraded and back in rotation the run holds until `promote` (or, when
    /// the plan has prometheus gates, until their window passes).
    /// </summary>
    public int? WaitForPromoteAfter { get; init; }

    public TimeSpan? MaxMixedVersionWindow { get; init; }

    /// <summary>
    /// Version affinity: once a batch is upgraded and back in rotation, the nodes not yet upgraded take no new sessions
    /// (they keep theirs) in every load balancer that can express it, so a client that reached the new version is
    /// never sent back to the old one.
    /// </summary>
    public bool VersionAffinity { get; init; } = true;

    /// <summary>Node names in upgrade order; the plan's node order when empty.</summary>
    public IReadOnlyList<string> Order { get; init; } = [];
}
