namespace RollingUpgrade.Execution;

/// <summary>The documented exit codes of <c>rollingupgrade</c>.</summary>
public static class ExitCodes
{
    public const int Done = 0;
    public const int HaltedOrRolledBack = 1;
    public const int BadInput = 2;
    public const int Locked = 3;
    public const int NothingToDo = 4;
    public const int Interrupted = 130;
}
