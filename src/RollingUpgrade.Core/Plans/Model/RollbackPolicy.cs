namespace RollingUpgrade.Plans.Model;

public enum RollbackPolicy
{
    Halt,
    Rollback,
}
