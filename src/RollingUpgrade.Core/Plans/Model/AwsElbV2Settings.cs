namespace RollingUpgrade.Plans.Model;

/// <summary>AWS ELBv2 target groups, plus the listener or rule used for weighted cutover.</summary>
public sealed record AwsElbV2Settings(
    string? Region,
    string? Endpoint,
    IReadOnlyList<string> TargetGroups,
    string? ListenerArn,
    string? RuleArn,
    IReadOnlyList<string> GreenTargetGroups
) : LoadBalancerSettings
{
    /// <summary>
    /// The target port for nodes whose id in this load balancer names none ("i-0abc" rather than "i-0abc:5222").
    /// </summary>
    public int? Port { get; init; }

    /// <summary>How long a registered target may take to pass the target group's health checks.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(10);
}
