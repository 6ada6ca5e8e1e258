using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

public enum ServerAdminState
{
    Ready,
    Drain,
    Maintenance,
}
