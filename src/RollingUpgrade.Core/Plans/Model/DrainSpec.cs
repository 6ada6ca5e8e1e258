namespace RollingUpgrade.Plans.Model;

/// <summary>How a node's or a cluster's live connections are brought to zero.</summary>
public sealed record DrainSpec
{
    /// <summary>
    /// How long connections may end by themselves. The defaults finish safely when a plan leaves out
    /// <c>[strategy.drain]</c>: two minutes, then paced eviction through the node.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    public DrainTimeoutPolicy OnTimeout { get; init; } = DrainTimeoutPolicy.Evict;

    /// <summary>Sessions evicted per second after the deadline (where an adaptive pace starts).</summary>
    public int EvictionRate { get; init; } = 10;

    /// <summary>
    /// <c>eviction_rate = "auto"</c>: the pace rises additively while the serving nodes take the evicted clients
    /// back (and their balancers count no new errors), and halves when they do not, up to
    /// <see cref="MaxEvictionRate"/>.
    /// </summary>
    public bool AdaptivePace { get; init; }

    /// <summary>
    /// The fastest pace at which sessions are ended through the node: the ceiling of an adaptive pace, and the pace
    /// at which <c>on_timeout = "stop"</c> ends what is left before the stop.
    /// </summary>
    public int MaxEvictionRate { get; init; } = 500;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive zero readings that prove a drain is complete.</summary>
    public int ZeroReadings { get; init; } = 3;

    /// <summary>
    /// How long after the drain a load balancer may still send new sessions to the node (readings of its cumulative
    /// session count); a balancer that sends one later did not take the drain, and the step fails.
    /// </summary>
    public TimeSpan PropagationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long, after the node's last session was evicted, the sessions the cluster still serves may take to
    /// come back to the level before the eviction. Zero turns the takeover check off.
    /// </summary>
    public TimeSpan WaitTakeover { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The share of evicted sessions, in percent, that must be re-established on the serving nodes.</summary>
    public int TakeoverPercent { get; init; } = 99;

    /// <summary>True when the plan has no <c>[strategy.drain]</c> table: every value is a default.</summary>
    public bool Defaulted { get; init; }
}
