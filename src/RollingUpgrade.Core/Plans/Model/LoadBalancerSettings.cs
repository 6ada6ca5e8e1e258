namespace RollingUpgrade.Plans.Model;

/// <summary>Settings of one load balancer kind.</summary>
public abstract record LoadBalancerSettings;
