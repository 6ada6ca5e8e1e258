namespace RollingUpgrade.Planning;

/// <summary>
/// One idempotent-or-verified action of a run. Numbered from 1; <see cref="Id"/> is stable for
/// a given plan, so a journal can be matched to the steps of the same plan on resume.
/// </summary>
public sealed record Step(int Number, StepKind Kind, string Description)
{
    /// <summary>The nodes this step acts on.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    public string? LoadBalancer { get; init; }

    /// <summary>ShiftTraffic: green share after the step.</summary>
    public int? GreenPercent { get; init; }

    /// <summary>Nodes serving after this step, out of all nodes that serve traffic.</summary>
    public int ServingAfter { get; init; }

    /// <summary>Which cluster the step touches in the parallel strategy ("blue", "green"), or null.</summary>
    public string? Side { get; init; }

    /// <summary>Gate names for RunGates steps.</summary>
    public IReadOnlyList<string> Gates { get; init; } = [];

    /// <summary>Rolling strategy: the index of the batch this step belongs to.</summary>
    public int? Batch { get; init; }

    public string? Node => Nodes.Count == 1 ? Nodes[0] : null;

    public string Id => string.Join(':', new[] { Kind.ToString(), string.Join('+', Nodes), LoadBalancer, GreenPercent?.ToString(System.Globalization.CultureInfo.InvariantCulture), Side }
        .Where(p => !string.IsNullOrEmpty(p)));
}
