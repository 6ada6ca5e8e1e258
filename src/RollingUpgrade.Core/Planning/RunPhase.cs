namespace RollingUpgrade.Planning;

/// <summary>Whether a step moves the cluster forward to the target or back to where it was.</summary>
public enum RunPhase
{
    Forward,
    Rollback,
}

/// <summary>The words the journal uses for phases; journals of every release use these.</summary>
internal static class RunPhases
{
    public const string ForwardText = "forward";
    public const string RollbackText = "rollback";

    public static string Text(this RunPhase phase) => phase == RunPhase.Rollback ? RollbackText : ForwardText;
}
