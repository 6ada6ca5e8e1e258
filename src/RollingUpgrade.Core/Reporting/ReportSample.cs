namespace RollingUpgrade.Reporting;

/// <summary>
/// The counts read at one poll of a drain wait: the draining node's connections at the balancers, its own sessions
/// (when read), what was evicted so far, and (every few seconds) the other nodes' connections.
/// </summary>
public sealed record ReportSample(
    DateTimeOffset At,
    string Node,
    long Connections,
    long? Sessions,
    long Evicted,
    IReadOnlyDictionary<string, long> Others
)
{
    /// <summary>The eviction's pace (sessions per second) at this poll, while evicting.</summary>
    public double? Pace { get; init; }
}
