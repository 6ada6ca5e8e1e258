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

    /// <summary>A step still running: what it waits for, the counts now, the time left (every 10 s).</summary>
    public const string Heartbeat = "heartbeat";
    public const string Warning = "warning";

    /// <summary>
    /// The counts a drain wait read (as journalled for the report): <c>node</c>, <c>connections</c>, <c>evicted</c>,
    /// <c>sessions</c> when read, <c>NODE@LB</c> per node and balancer, <c>c:NODE</c> per node.
    /// </summary>
    public const string Sample = "sample";
    public const string RollbackStarted = "rollback-started";
    public const string RunFinished = "run-finished";
}
