using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>
/// The placeholder values (<c>{version}</c>, <c>{from_version}</c>, <c>{backup_path}</c>,
/// <c>{node}</c>, ...) for a command on one node. During a run they are the values of the step
/// being run (going back, <c>{version}</c> is the previous version); products, probes and
/// gates take them from here and never build their own.
/// </summary>
public interface ICommandValues
{
    IReadOnlyDictionary<string, string> For(NodeSpec node);
}
