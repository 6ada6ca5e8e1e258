namespace RollingUpgrade.Plans.Model;

/// <summary>One load balancer entry of a plan: its kind and the settings that kind reads.</summary>
public sealed record LoadBalancerSpec(string Name, string Kind, LoadBalancerSettings Settings);
