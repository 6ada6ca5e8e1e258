namespace RollingUpgrade.Plans.Model;

public enum DrainTimeoutPolicy
{
    Fail,
    Evict,
    Stop,
}
