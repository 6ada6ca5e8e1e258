namespace RollingUpgrade.Planning;

/// <summary>Which cluster a step of the parallel strategy touches.</summary>
public enum ClusterSide
{
    /// <summary>The old cluster, the plan's nodes.</summary>
    Blue,

    /// <summary>The new cluster, <c>strategy.green_nodes</c>.</summary>
    Green,
}
