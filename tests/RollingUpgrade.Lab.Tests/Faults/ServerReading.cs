namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>A node's state in HAProxy over every backend: up (its checks pass) and ready (admin state 0).</summary>
public sealed record ServerReading(bool Up, bool Ready)
{
    public bool Serving => Up && Ready;
}
