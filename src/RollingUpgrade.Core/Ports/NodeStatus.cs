using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

public sealed record NodeStatus(NodeRunState State, string? Version, string Detail)
{
    public bool IsRunning => State == NodeRunState.Running;
}
