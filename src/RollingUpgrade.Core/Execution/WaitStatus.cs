namespace RollingUpgrade.Execution;

/// <summary>
/// What a waiting step waits for (<paramref name="What"/>: "ej1's live connections"), where it stands
/// (<paramref name="Now"/>: "4 at the load balancers") and until when it waits before the plan's policy applies.
/// </summary>
internal sealed record WaitStatus(string What, string? Now = null, DateTimeOffset? Until = null, string? Then = null);
