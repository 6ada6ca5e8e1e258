namespace RollingUpgrade.Plans.Model;

public enum TrafficRollbackMode
{
    Immediate,
    Stepped,
}
