namespace RollingUpgrade.Planning;

/// <summary>
/// What a drain must leave serving: of <see cref="Pool"/> (read from every load balancer before
/// the drain, the drained node not counted), at least <see cref="Required"/> nodes.
/// </summary>
public sealed record CapacityRule(IReadOnlyList<string> Pool, int Required)
{
    /// <summary>
    /// The batch the drained node belongs to: all of it is counted out, so the rule holds at every instant however
    /// the batch's drains interleave. Empty for a batch of one.
    /// </summary>
    public IReadOnlyList<string> Together { get; init; } = [];
}
