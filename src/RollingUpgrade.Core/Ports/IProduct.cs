using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>What runs on a node, and how to ask it things.</summary>
public interface IProduct
{
    Task<NodeStatus> StatusAsync(NodeSpec node, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the node runs, as cheaply as the product can tell (no version). A product with a
    /// faster channel than its status command overrides this; "stopped" must still be certain.
    /// </summary>
    async Task<NodeRunState> RunStateAsync(NodeSpec node, CancellationToken cancellationToken) =>
        (await StatusAsync(node, cancellationToken).ConfigureAwait(false)).State;

    /// <summary>The cluster as this node sees it: running and stopped db nodes.</summary>
    Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken);

    /// <summary>Live client sessions on this node, or null when the product cannot tell.</summary>
    Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken);

    /// <summary>
    /// Ends up to <paramref name="maxSessions"/> client sessions on this node from the server side,
    /// so each client gets a stream error and a clean close rather than a bare TCP close. Returns how
    /// many it ended (0 when none is left), or null when the product cannot end sessions itself.
    /// </summary>
    Task<long?> EvictSessionsAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken);

    Task StopAsync(NodeSpec node, CancellationToken cancellationToken);

    /// <summary>Starts the node and returns once it reports started.</summary>
    Task StartAsync(NodeSpec node, CancellationToken cancellationToken);

    Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken);
}
