namespace RollingUpgrade.Plans.Model;

public static class LoadBalancerKinds
{
    public const string Yarp = "yarp";
    public const string HAProxy = "haproxy";
    public const string AwsElbV2 = "aws-elbv2";

    public static readonly IReadOnlyList<string> All = [Yarp, HAProxy, AwsElbV2];

    /// <summary>
    /// Whether a drained server keeps its live connections in this kind of balancer until they end (HAProxy's
    /// drain state, the embedded proxy), so it can be held out of new sessions only; ELBv2 ends a deregistered
    /// target's connections after the target group's deregistration delay.
    /// </summary>
    public static bool KeepsDrainedConnections(LoadBalancerSpec lb)
    {
        ArgumentNullException.ThrowIfNull(lb);
        return lb.Kind != AwsElbV2;
    }
}
