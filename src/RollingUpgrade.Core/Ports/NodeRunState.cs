using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

public enum NodeRunState
{
    Running,
    Starting,

    /// <summary>The VM is up but shutting down ("Erlang VM status: stopping"): not stopped yet.</summary>
    Stopping,
    Stopped,
}
