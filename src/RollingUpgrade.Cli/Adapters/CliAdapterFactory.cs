using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Cli.Adapters;

/// <summary>The real adapters, chosen by the kinds a plan names.</summary>
internal sealed class CliAdapterFactory : IAdapterFactory, IPlanInspector
{
    /// <summary>What this build cannot drive yet, so a run stops before touching anything.</summary>
    public static IReadOnlyList<string> Unavailable(Plan plan, IAdapterFactory adapters)
    {
        if (adapters is not CliAdapterFactory)
        {
            return [];
        }

        var missing = new List<string>();
        missing.AddRange(plan.LoadBalancers.Where(lb => lb.Kind is not (LoadBalancerKinds.HAProxy or LoadBalancerKinds.Yarp))
            .Select(lb => $"load balancer '{lb.Name}': kind \"{lb.Kind}\" is not available in this build yet"));
        return missing;
    }

    public ILoadBalancer CreateLoadBalancer(LoadBalancerSpec spec, Plan plan) => spec.Kind switch
    {
        LoadBalancerKinds.HAProxy => new HAProxyLoadBalancer(spec),
        LoadBalancerKinds.Yarp => new LoadBalancers.Yarp.YarpLoadBalancer(spec),
        _ => throw new NotSupportedException($"load balancer kind \"{spec.Kind}\" is not available in this build yet"),
    };

    public async Task<IReadOnlyList<Plans.PlanDiagnostic>> InspectAsync(Plan plan, CancellationToken cancellationToken)
    {
        var result = new List<Plans.PlanDiagnostic>();
        for (var i = 0; i < plan.LoadBalancers.Count; i++)
        {
            if (plan.LoadBalancers[i].Kind == LoadBalancerKinds.HAProxy)
            {
                result.AddRange(await HAProxyPlanInspector.InspectAsync(plan, plan.LoadBalancers[i], i, cancellationToken).ConfigureAwait(false));
            }
        }

        return result;
    }

    public IProduct CreateProduct(Plan plan, IShellFactory shells) => ProductFactory.Create(plan, shells);

    public IShellFactory CreateShells(Plan plan) => new ShellFactory(plan);

    public IGateProbe CreateGateProbe(Plan plan) => new Nodes.Gates.NetworkGateProbe();
}
