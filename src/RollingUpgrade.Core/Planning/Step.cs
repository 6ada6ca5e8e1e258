using System.Globalization;

namespace RollingUpgrade.Planning;

/// <summary>
/// One idempotent-or-verified action of a run, with everything it acts on, so running it never
/// re-decides what planning decided. Numbered from 1; <see cref="Id"/> is stable for a given
/// plan, so a journal can be matched to the steps of the same plan on resume.
/// </summary>
public sealed record Step(int Number, StepKind Kind, string Description)
{
    /// <summary>The nodes this step acts on.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    public string? LoadBalancer { get; init; }

    public RunPhase Phase { get; init; }

    /// <summary>Which cluster the step touches in the parallel strategy, or null.</summary>
    public ClusterSide? Side { get; init; }

    /// <summary>
    /// The version in force for this step's commands (<c>{version}</c>): the target going forward, the previous one
    /// going back.
    /// </summary>
    public string Version { get; init; } = string.Empty;

    /// <summary>The version the nodes must report after this step, or null when it is not checked.</summary>
    public string? ExpectedVersion { get; init; }

    /// <summary>Pause steps: how long.</summary>
    public TimeSpan? Pause { get; init; }

    /// <summary>Drain steps that take serving capacity away: what must keep serving.</summary>
    public CapacityRule? Capacity { get; init; }

    /// <summary>ShiftTraffic: green share after the step.</summary>
    public int? GreenPercent { get; init; }

    /// <summary>Nodes serving after this step, out of all nodes that serve traffic.</summary>
    public int ServingAfter { get; init; }

    /// <summary>Gate names for RunGates steps.</summary>
    public IReadOnlyList<string> Gates { get; init; } = [];

    /// <summary>Rolling strategy: the index of the batch this step belongs to.</summary>
    public int? Batch { get; init; }

    /// <summary>
    /// Steps with the same wave run at once, one chain per node (a node's own steps in the wave in their order): the
    /// nodes of a batch go through each stage together. Null: the step runs alone.
    /// </summary>
    public int? Wave { get; init; }

    public string? Node => Nodes.Count == 1 ? Nodes[0] : null;

    public string Id =>
        string.Join(
            ':',
            new[]
            {
                Kind.ToString(),
                string.Join('+', Nodes),
                LoadBalancer,
                GreenPercent?.ToString(CultureInfo.InvariantCulture),
                IdTag,
            }.Where(p => !string.IsNullOrEmpty(p))
        );

    /// <summary>
    /// The last part of <see cref="Id"/>: the side, or "rollback" for the rollback steps that
    /// journals before steps carried their phase marked that way (so those journals still resume).
    /// </summary>
    private string? IdTag =>
        Side switch
        {
            ClusterSide.Blue => "blue",
            ClusterSide.Green => "green",
            _ when Phase == RunPhase.Rollback && Kind is StepKind.VerifyNode or StepKind.ShiftTraffic =>
                RunPhases.RollbackText,
            _ => null,
        };
}
