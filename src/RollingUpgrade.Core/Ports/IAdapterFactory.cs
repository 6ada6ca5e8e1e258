using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>Builds the adapters a plan needs; the CLI registers the real ones, tests register fakes.</summary>
public interface IAdapterFactory
{
    ILoadBalancer CreateLoadBalancer(LoadBalancerSpec spec, Plan plan);

    /// <summary>
    /// The product; every command it runs takes its placeholder values from <paramref name="values"/>.
    /// </summary>
    IProduct CreateProduct(Plan plan, IShellFactory shells, ICommandValues values);

    IShellFactory CreateShells(Plan plan);

    IGateProbe CreateGateProbe(Plan plan);
}
