namespace RollingUpgrade.Plans.Model;

/// <summary>One server of a cluster and its id in every load balancer.</summary>
public sealed record NodeSpec(
    string Name,
    string Host,
    string ErlangNode,
    IReadOnlyDictionary<string, string> LoadBalancerIds
)
{
    /// <summary>Optional per-node override of the shell port (tests put several nodes on one machine).</summary>
    public int? SshPort { get; init; }

    /// <summary>Extra values that node command templates may use as <c>{var.NAME}</c>.</summary>
    public IReadOnlyDictionary<string, string> Vars { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Server ids per backend where a node has different names in the backends of one load balancer
    /// (HAProxy: <c>lb_ids = { edge = { be_xmpp = "mim3", be_ws = "mim-3" } }</c>): load balancer, then backend.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> BackendIds { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>The node's server id in a load balancer (its first backend's when names differ per backend).</summary>
    public string IdIn(string loadBalancer) => LoadBalancerIds[loadBalancer];

    /// <summary>The node's server id in one backend of a load balancer.</summary>
    public string IdIn(string loadBalancer, string backend) =>
        BackendIds.TryGetValue(loadBalancer, out var names) && names.TryGetValue(backend, out var id)
            ? id
            : LoadBalancerIds[loadBalancer];
}
