namespace RollingUpgrade.Execution;

public enum RunStatus
{
    Succeeded,
    Halted,
    RolledBack,
    Interrupted,
    NeedsOperator,
    Locked,
    BadInput,

    /// <summary>The request had nothing to act on (promote with no step waiting); nothing was changed.</summary>
    NothingToDo,
}
