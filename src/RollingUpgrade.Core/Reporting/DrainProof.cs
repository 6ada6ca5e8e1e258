namespace RollingUpgrade.Reporting;

/// <summary>
/// One proof a drain wait journalled: a balancer seen to stop sending new sessions to the node (<c>propagation</c>,
/// with the balancer, the time from the drain and the sessions that still arrived) or the evicted sessions seen back on
/// the serving nodes (<c>takeover</c>, with evicted, re-established, not back, the time and whether it passed).
/// </summary>
public sealed record DrainProof(DateTimeOffset At, string Kind, string Node, IReadOnlyDictionary<string, string> Data);
