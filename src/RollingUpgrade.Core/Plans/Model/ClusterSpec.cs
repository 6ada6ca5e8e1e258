namespace RollingUpgrade.Plans.Model;

/// <summary>
/// The cluster: its name (names the state folder and the lock), its environment, and the staging-first gate: a run
/// here needs a succeeded run of the same from -> to versions on <paramref name="RequiresStaging"/>, at most
/// <paramref name="StagingMaxAge"/> old when given.
/// </summary>
public sealed record ClusterSpec(
    string Name,
    string? Environment,
    string? RequiresStaging = null,
    TimeSpan? StagingMaxAge = null
);
