namespace RollingUpgrade.Planning;

/// <summary>
/// What a drain must leave serving: of <see cref="Pool"/> (read from every load balancer before
/// the drain, the drained node not counted), at least <see cref="Required"/> nodes.
/// </summary>
public sealed record CapacityRule(IReadOnlyList<string> Pool, int Required);
