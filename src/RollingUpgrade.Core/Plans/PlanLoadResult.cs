using System.Security.Cryptography;
using System.Text;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Toml;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans;

/// <summary>The outcome of reading a plan: the plan, or every problem found (never a partial plan).</summary>
public sealed record PlanLoadResult(Plan? Plan, IReadOnlyList<PlanDiagnostic> Diagnostics)
{
    public bool Succeeded => Plan is not null && Diagnostics.All(d => d.IsWarning || d.IsNote);
}
