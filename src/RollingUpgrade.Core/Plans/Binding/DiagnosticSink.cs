using RollingUpgrade.Plans.Toml;

namespace RollingUpgrade.Plans.Binding;

/// <summary>Collects every problem in a plan so that all of them are reported at once.</summary>
public sealed class DiagnosticSink
{
    private readonly List<PlanDiagnostic> _items = [];

    public IReadOnlyList<PlanDiagnostic> Items => _items;

    /// <summary>When set, every key the binder asks for is recorded (to generate the plan schema).</summary>
    public Schema.SchemaRecorder? Recorder { get; init; }

    /// <summary>
    /// Where each key that was read was written, by dotted path ("strategy.batch_size"), for rules that span sections.
    /// </summary>
    public Dictionary<string, SourceLocation> Locations { get; } = new(StringComparer.Ordinal);

    public SourceLocation Where(string path, SourceLocation fallback)
    {
        while (true)
        {
            if (Locations.TryGetValue(path, out var location))
            {
                return location;
            }

            var dot = path.LastIndexOf('.');
            if (dot < 0)
            {
                return fallback;
            }

            path = path[..dot];
        }
    }

    public bool HasErrors => _items.Any(d => !d.IsWarning && !d.IsNote);

    public void Error(SourceLocation location, string message) => _items.Add(new PlanDiagnostic(location, message));

    public void Warning(SourceLocation location, string message) =>
        _items.Add(new PlanDiagnostic(location, message) { IsWarning = true });

    public void AddRange(IEnumerable<PlanDiagnostic> diagnostics) => _items.AddRange(diagnostics);

    public IReadOnlyList<PlanDiagnostic> Sorted() =>
        _items.OrderBy(d => d.Location).ThenBy(d => d.Message, StringComparer.Ordinal).ToList();
}
