using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>
/// What a load balancer says about one node. A balancer that cannot count connections (ELBv2
/// without CloudWatch) sets <paramref name="ConnectionsCounted"/> to false and reports 1 while the
/// node may still hold some (draining), 0 once it cannot; the node's own session count, when the
/// product has one, then decides. <paramref name="SessionsTotal"/> is the balancer's cumulative count of sessions it
/// sent to the node (HAProxy's <c>stot</c>), or null when it keeps none: a count that stops growing after a drain
/// proves that the balancer stopped sending. <paramref name="TrafficPercent"/> is the node's share of the new traffic
/// (unrounded, so that the shares of a side's nodes add up to the side's share, and a node among a thousand with
/// equal weights has 0.1, not 0), or null when the balancer has no weights.
/// </summary>
public sealed record ServerState(
    string LoadBalancer,
    string Node,
    ServerAdminState Admin,
    bool Healthy,
    long LiveConnections,
    double? TrafficPercent = null,
    long Errors = 0,
    bool ConnectionsCounted = true,
    long? SessionsTotal = null
)
{
    public bool IsServing => Admin == ServerAdminState.Ready && Healthy && TrafficPercent is null or > 0;
}
