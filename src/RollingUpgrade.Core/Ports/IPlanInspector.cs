using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>
/// Checks a plan against the live systems it names (backends and servers that exist, target
/// groups, listeners), where they can be reached. Reads only; changes nothing.
/// </summary>
public interface IPlanInspector
{
    Task<IReadOnlyList<Plans.PlanDiagnostic>> InspectAsync(Plan plan, CancellationToken cancellationToken);
}
