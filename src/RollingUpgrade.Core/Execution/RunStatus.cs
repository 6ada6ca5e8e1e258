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
}
