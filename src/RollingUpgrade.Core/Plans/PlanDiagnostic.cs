using RollingUpgrade.Plans.Toml;

namespace RollingUpgrade.Plans;

/// <summary>One thing wrong with a plan, printed as <c>file:line:col: message</c>.</summary>
public sealed record PlanDiagnostic(SourceLocation Location, string Message)
{
    public bool IsWarning { get; init; }

    /// <summary>
    /// A fact read from a live system for the operator to see, not a problem; never counted as an error.
    /// </summary>
    public bool IsNote { get; init; }

    /// <summary>
    /// A live system the plan names could not be read, so what it holds was not checked: a warning for `plan` and
    /// `run`, an error for `validate` unless it runs offline.
    /// </summary>
    public bool IsUnreachable { get; init; }

    public override string ToString() =>
        $"{Location}: {(IsNote ? "note: " : IsWarning ? "warning: " : string.Empty)}{Message}";
}
