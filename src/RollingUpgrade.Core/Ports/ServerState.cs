using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>
/// What a load balancer says about one node. A balancer that cannot count connections (ELBv2
/// without CloudWatch) sets <paramref name="ConnectionsCounted"/> to false and reports 1 while the
/// node may still hold some (draining), 0 once it cannot; the node's own session count, when the
/// product has one, then decides. <paramref name="SessionsTotal"/> is the balancer's cumulative count of sessions it
/// sent to the node (HAProxy's <c>stot</c>), or null when it keeps none: a count that stops growing after a drain
/// proves that the balancer stopped sending.
/// </summary>
public sealed record ServerState(
    string LoadBalancer,
    string Node,
    ServerAdminState Admin,
    bool Healthy,
    long LiveConnections,
    int? TrafficPercent = null,
    long Errors = 0,
    bool ConnectionsCounted = true,
    long? SessionsTotal = null
)
{
    public bool IsServing => Admin == ServerAdminState.Ready && Healthy && TrafficPercent is null or > 0;
}
