using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// The placeholder values of the step being run, for every command of that step, whoever runs
/// it (the engine, a product, a probe). The step flows with the async call, so steps that run at
/// the same time each see their own.
/// </summary>
internal sealed class StepCommandValues(Plan plan, RunState facts, string runId) : ICommandValues
{
    private readonly AsyncLocal<Step?> _current = new();

    /// <summary>Makes <paramref name="step"/> the step in force for the calling async flow.</summary>
    public void Enter(Step step) => _current.Value = step;

    public IReadOnlyDictionary<string, string> For(NodeSpec node) =>
        CommandValues.For(
            plan,
            node,
            _current.Value?.Version ?? plan.Upgrade.TargetVersion,
            PreviousVersion,
            BackupPath(node)
        );

    /// <summary>What the cluster ran before this run: read at the first check, else the plan's from_version.</summary>
    public string PreviousVersion => facts.Get(RunState.FromVersion) ?? plan.Upgrade.FromVersion ?? string.Empty;

    /// <summary>This run's folder of the node's config backups, named after the run so resume finds it again.</summary>
    public string BackupFolder(NodeSpec node) => $"{plan.BackupRootOf(node)}/{runId}";

    /// <summary>
    /// The backup of config_path (the {backup_path} placeholder). A run journalled by an older version kept it
    /// next to the config file; that path is used to the end of that run.
    /// </summary>
    public string BackupPath(NodeSpec node) =>
        LegacyBackup(node) ?? $"{BackupFolder(node)}/{Path.GetFileName(plan.ConfigPathOf(node))}";

    /// <summary>The single-file backup path of a run started before backups had a folder, or null.</summary>
    public string? LegacyBackup(NodeSpec node) =>
        facts.Get(RunState.BackupKey(node.Name)) is { } recorded
        && recorded == $"{plan.ConfigPathOf(node)}.rollingupgrade-{runId}"
            ? recorded
            : null;
}
