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

    /// <summary>The config backup next to the config file, named after the run so resume finds it again.</summary>
    public string BackupPath(NodeSpec node) => $"{plan.ConfigPathOf(node)}.rollingupgrade-{runId}";
}
