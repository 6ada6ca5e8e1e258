using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>Builds the adapters a plan needs; the CLI registers the real ones, tests register fakes.</summary>
public interface IAdapterFactory
{
    ILoadBalancer CreateLoadBalancer(LoadBalancerSpec spec, Plan plan);

    /// <summary>The product; every command it runs takes its placeholder values from <paramref name="values"/>.</summary>
    IProduct CreateProduct(Plan plan, IShellFactory shells, ICommandValues values);

    IShellFactory CreateShells(Plan plan);

    IGateProbe CreateGateProbe(Plan plan);
}

/// <summary>
/// Checks a plan against the live systems it names (backends and servers that exist, target
/// groups, listeners), where they can be reached. Reads only; changes nothing.
/// </summary>
public interface IPlanInspector
{
    Task<IReadOnlyList<Plans.PlanDiagnostic>> InspectAsync(Plan plan, CancellationToken cancellationToken);
}

/// <summary>A port call failed in a way that may pass on retry (a dropped connection, a busy socket).</summary>
public sealed class TransientException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A node or load balancer answered something the adapter cannot understand.</summary>
public sealed class UnexpectedAnswerException(string message) : Exception(message);
