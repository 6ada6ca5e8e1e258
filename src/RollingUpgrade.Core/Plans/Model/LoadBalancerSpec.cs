namespace RollingUpgrade.Plans.Model;

public static class LoadBalancerKinds
{
    public const string Yarp = "yarp";
    public const string HAProxy = "haproxy";
    public const string AwsElbV2 = "aws-elbv2";

    public static readonly IReadOnlyList<string> All = [Yarp, HAProxy, AwsElbV2];
}

/// <summary>One load balancer entry of a plan: its kind and the settings that kind reads.</summary>
public sealed record LoadBalancerSpec(string Name, string Kind, LoadBalancerSettings Settings);

/// <summary>Settings of one load balancer kind.</summary>
public abstract record LoadBalancerSettings;

/// <summary>HAProxy runtime API: one or more instances (an HA pair) changed together.</summary>
public sealed record HAProxySettings(IReadOnlyList<string> Sockets, IReadOnlyList<string> Backends, TimeSpan Timeout) : LoadBalancerSettings
{
    /// <summary>How long a server may take to pass its health check after being set ready.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The embedded proxy's admin API.</summary>
public sealed record YarpSettings(string AdminUrl, string Cluster, string? TokenEnv) : LoadBalancerSettings
{
    /// <summary>How long a destination set ready may take to pass the proxy's health check.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>AWS ELBv2 target groups, plus the listener or rule used for weighted cutover.</summary>
public sealed record AwsElbV2Settings(
    string? Region,
    string? Endpoint,
    IReadOnlyList<string> TargetGroups,
    string? ListenerArn,
    string? RuleArn,
    IReadOnlyList<string> GreenTargetGroups) : LoadBalancerSettings
{
    /// <summary>The target port for nodes whose id in this load balancer names none ("i-0abc" rather than "i-0abc:5222").</summary>
    public int? Port { get; init; }

    /// <summary>How long a registered target may take to pass the target group's health checks.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(10);
}
