namespace RollingUpgrade.Planning;

/// <summary>Numbers steps as they are added, and gives each the phase and version in force.</summary>
internal sealed class StepListBuilder
{
    private readonly List<Step> _steps = [];

    public int Serving { get; set; }

    /// <summary>The batch index given to steps added now, or null outside batches.</summary>
    public int? Batch { get; set; }

    public RunPhase Phase { get; init; }

    /// <summary>The wave given to steps added now (see <see cref="Step.Wave"/>), or null: each runs alone.</summary>
    public int? Wave { get; set; }

    private int _waves;

    /// <summary>Starts a new wave for the steps added from now on, or none.</summary>
    public void NewWave(bool together) => Wave = together ? ++_waves : null;

    /// <summary>The version the steps added now work with (the target, or the previous one going back).</summary>
    public required string Version { get; init; }

    /// <summary>The version for descriptions: the previous one may not be known before the run reads it.</summary>
    public string VersionText => Version.Length > 0 ? Version : "the previous version";

    public IReadOnlyList<Step> Steps => _steps;

    public void Add(Step step) =>
        _steps.Add(
            step with
            {
                Number = _steps.Count + 1,
                ServingAfter = Serving,
                Batch = Batch,
                Wave = Wave,
                Phase = Phase,
                Version = Version,
            }
        );

    public Step New(StepKind kind, string description, params string[] nodes) =>
        new(0, kind, description) { Nodes = nodes };
}
