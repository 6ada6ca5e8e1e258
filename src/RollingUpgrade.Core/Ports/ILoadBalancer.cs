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
    Task SetTrafficShareAsync(
        IReadOnlyList<NodeSpec> blue,
        IReadOnlyList<NodeSpec> green,
        int greenPercent,
        CancellationToken cancellationToken
    );

    /// <summary>
    /// Ends up to <paramref name="maxSessions"/> live sessions on the node; returns how many were ended.
    /// </summary>
    Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken);
}
