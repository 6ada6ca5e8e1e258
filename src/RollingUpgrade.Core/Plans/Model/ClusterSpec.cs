namespace RollingUpgrade.Plans.Model;

public sealed record ClusterSpec(string Name, string? Environment, string? RequireStagingRunOf);
