namespace RollingUpgrade.Plans.Model;

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
