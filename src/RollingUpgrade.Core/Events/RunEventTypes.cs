namespace RollingUpgrade.Events;

/// <summary>The kinds of <see cref="RunEvent"/>.</summary>
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
