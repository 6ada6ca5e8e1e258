using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

public enum NodeRunState
{
    Running,
    Starting,
    Stopped,
}
