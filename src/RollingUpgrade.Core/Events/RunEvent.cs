namespace RollingUpgrade.Events;

/// <summary>A moment of the user-facing story of a run (console, JSON, report).</summary>
public sealed record RunEvent(DateTimeOffset At, string Type, string Message)
{
    /// <summary>The run the event belongs to, once it has one.</summary>
    public string? RunId { get; init; }

    public int? Step { get; init; }

    public int? TotalSteps { get; init; }

    public string? Node { get; init; }

    public string? Phase { get; init; }

    public IReadOnlyDictionary<string, string>? Data { get; init; }
}
