using System.Text.Json.Serialization;

namespace RollingUpgrade.Journaling;

/// <summary>The record types a journal holds.</summary>
public static class JournalTypes
{
    public const string RunStarted = "run-started";
    public const string RunResumed = "run-resumed";
    public const string StepStarted = "step-started";
    public const string StepSucceeded = "step-succeeded";
    public const string StepFailed = "step-failed";
    public const string StepVerified = "step-verified";
    public const string Fact = "fact";
    public const string RollbackStarted = "rollback-started";
    public const string RunFinished = "run-finished";
    public const string StagingOverride = "staging-override";

    /// <summary>Live connections read during a drain wait (for the report): changes, and every few seconds.</summary>
    public const string Sample = "sample";

    /// <summary>
    /// A load balancer stopped sending new sessions to a drained node: how long after the drain (for the report).
    /// </summary>
    public const string Propagation = "propagation";

    /// <summary>Evicted sessions re-established on the serving nodes (for the report).</summary>
    public const string Takeover = "takeover";
}
