namespace RollingUpgrade.Reporting;

/// <summary>
/// One attempt at a step as the journal tells it: a step retried after a resume appears once per attempt.
/// <see cref="Outcome"/>: succeeded, failed, interrupted (a safe stop), or unfinished (the process ended in it).
/// </summary>
public sealed record ReportStep(
    int Number,
    string Phase,
    string Description,
    string Kind,
    IReadOnlyList<string> Nodes,
    DateTimeOffset Started,
    DateTimeOffset? Ended,
    string Outcome,
    string? Message,
    int? GreenPercent
)
{
    public TimeSpan? Duration => Ended - Started;
}
