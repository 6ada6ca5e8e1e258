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

    public string IdIn(string loadBalancer) => LoadBalancerIds[loadBalancer];
}
