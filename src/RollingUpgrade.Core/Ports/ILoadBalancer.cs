using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>
/// One load balancer entry of a plan (possibly several instances of an HA pair). Every change
/// is applied to each instance and read back before the call returns.
/// </summary>
public interface ILoadBalancer
{
    string Name { get; }

    /// <summary>Reads the current state of each node's server(s).</summary>
    Task<IReadOnlyList<ServerState>> ReadAsync(IReadOnlyList<NodeSpec> nodes, CancellationToken cancellationToken);

    /// <summary>Sets ready, drain or maintenance and verifies it took effect on every instance.</summary>
    Task SetStateAsync(NodeSpec node, ServerAdminState state, CancellationToken cancellationToken);

    /// <summary>Splits new traffic: <paramref name="greenPercent"/> to the green nodes, the rest to blue.</summary>
    Task SetTrafficShareAsync(IReadOnlyList<NodeSpec> blue, IReadOnlyList<NodeSpec> green, int greenPercent, CancellationToken cancellationToken);

    /// <summary>Ends up to <paramref name="maxSessions"/> live sessions on the node; returns how many were ended.</summary>
    Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken);
}

public enum ServerAdminState
{
    Ready,
    Drain,
    Maintenance,
}

/// <summary>
/// What a load balancer says about one node. A balancer that cannot count connections (ELBv2
/// without CloudWatch) sets <paramref name="ConnectionsCounted"/> to false and reports 1 while the
/// node may still hold some (draining), 0 once it cannot; the node's own session count, when the
/// product has one, then decides.
/// </summary>
public sealed record ServerState(
    string LoadBalancer,
    string Node,
    ServerAdminState Admin,
    bool Healthy,
    long LiveConnections,
    int? TrafficPercent = null,
    long Errors = 0,
    bool ConnectionsCounted = true)
{
    public bool IsServing => Admin == ServerAdminState.Ready && Healthy && TrafficPercent is null or > 0;
}
