namespace RollingUpgrade.Planning;

/// <summary>The numbered steps of a run, and how each point would be rolled back.</summary>
public sealed record ExecutionPlan(string Strategy, IReadOnlyList<Step> Steps, IReadOnlyList<MigrationGuide> Migrations)
{
    /// <summary>A human sentence per step: what the rollback policy does if that step fails.</summary>
    public required Func<int, string> RollbackPathAt { get; init; }
}
