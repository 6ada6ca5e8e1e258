namespace RollingUpgrade.Plans.Model;

public enum AccessKind
{
    Ssh,
    Local,
}
