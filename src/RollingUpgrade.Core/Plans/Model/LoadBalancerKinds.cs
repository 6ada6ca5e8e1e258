namespace RollingUpgrade.Plans.Model;

public static class LoadBalancerKinds
{
    public const string Yarp = "yarp";
    public const string HAProxy = "haproxy";
    public const string AwsElbV2 = "aws-elbv2";

    public static readonly IReadOnlyList<string> All = [Yarp, HAProxy, AwsElbV2];
}
