namespace RollingUpgrade.Events;

/// <summary>A moment of the user-facing story of a run (console, JSON, report).</summary>
public sealed record RunEvent(DateTimeOffset At, string Type, string Message)
{
    public int? Step { get; init; }

    public int? TotalSteps { get; init; }

    public string? Node { get; init; }

    public string? Phase { get; init; }

    public IReadOnlyDictionary<string, string>? Data { get; init; }
}

public static class RunEventTypes
{
    public const string RunStarted = "run-started";
    public const string StepStarted = "step-started";
    public const string StepSucceeded = "step-succeeded";
    public const string StepFailed = "step-failed";
    public const string StepSkipped = "step-skipped";
    public const string Progress = "progress";
    public const string Warning = "warning";
    public const string RollbackStarted = "rollback-started";
    public const string RunFinished = "run-finished";
}

public interface IRunObserver
{
    void OnEvent(RunEvent runEvent);
}

/// <summary>Collects events in memory (tests, reports).</summary>
public sealed class RecordingObserver : IRunObserver
{
    private readonly List<RunEvent> _events = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<RunEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    public void OnEvent(RunEvent runEvent)
    {
        lock (_gate)
        {
            _events.Add(runEvent);
        }
    }
}
