namespace RollingUpgrade.Plans.Model;

/// <summary>A validated plan: what to upgrade and how. Immutable; run-time state lives elsewhere.</summary>
public sealed record Plan
{
    public required string SourcePath { get; init; }

    /// <summary>SHA-256 of the plan text; a run can only be resumed with the plan it started with.</summary>
    public required string Fingerprint { get; init; }

    public required ClusterSpec Cluster { get; init; }

    public required IReadOnlyList<NodeSpec> Nodes { get; init; }

    public required AccessSpec Access { get; init; }

    public required ProductSpec Product { get; init; }

    public required IReadOnlyList<LoadBalancerSpec> LoadBalancers { get; init; }

    public required UpgradeSpec Upgrade { get; init; }

    public required StrategySpec Strategy { get; init; }

    public required IReadOnlyList<GateSpec> Gates { get; init; }

    public required RollbackPolicy Rollback { get; init; }

    public NodeSpec Node(string name) => Nodes.Concat(GreenNodes).First(n => n.Name == name);

    public IReadOnlyList<NodeSpec> GreenNodes => Strategy is ParallelStrategySpec p ? p.GreenNodes : [];
}
