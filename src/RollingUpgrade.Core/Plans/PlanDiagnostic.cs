using RollingUpgrade.Plans.Toml;

namespace RollingUpgrade.Plans;

/// <summary>One thing wrong with a plan, printed as <c>file:line:col: message</c>.</summary>
public sealed record PlanDiagnostic(SourceLocation Location, string Message)
{
    public bool IsWarning { get; init; }

    public override string ToString() => $"{Location}: {(IsWarning ? "warning: " : string.Empty)}{Message}";
}
