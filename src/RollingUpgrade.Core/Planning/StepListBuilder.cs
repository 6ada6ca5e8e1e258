namespace RollingUpgrade.Planning;

/// <summary>Numbers steps as they are added.</summary>
internal sealed class StepListBuilder
{
    private readonly List<Step> _steps = [];

    public int Serving { get; set; }

    /// <summary>The batch index given to steps added now, or null outside batches.</summary>
    public int? Batch { get; set; }

    public IReadOnlyList<Step> Steps => _steps;

    public void Add(Step step) => _steps.Add(step with { Number = _steps.Count + 1, ServingAfter = Serving, Batch = Batch });

    public Step New(StepKind kind, string description, params string[] nodes) => new(0, kind, description) { Nodes = nodes };
}
