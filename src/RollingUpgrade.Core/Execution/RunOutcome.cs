namespace RollingUpgrade.Execution;

/// <summary>How a run ended, what state it left, and what the operator should do next.</summary>
public sealed record RunOutcome(RunStatus Status, string Summary, string NextSteps)
{
    public string? RunId { get; init; }

    public int? FailedStep { get; init; }

    /// <summary>Exit codes: 0 done, 1 halted or rolled back, 130 interrupted.</summary>
    public int ExitCode =>
        Status switch
        {
            RunStatus.Succeeded => ExitCodes.Done,
            RunStatus.Interrupted => ExitCodes.Interrupted,
            RunStatus.Locked => ExitCodes.Locked,
            RunStatus.BadInput => ExitCodes.BadInput,
            RunStatus.NothingToDo => ExitCodes.NothingToDo,
            _ => ExitCodes.HaltedOrRolledBack,
        };
}

/// <summary>A step could not complete; the message says what was seen.</summary>
internal sealed class StepFailedException(string message, bool nodeTouched = true) : Exception(message)
{
    /// <summary>
    /// False when nothing on the node changed yet (a drain that timed out, a refused capacity check).
    /// </summary>
    public bool NodeTouched { get; } = nodeTouched;
}
