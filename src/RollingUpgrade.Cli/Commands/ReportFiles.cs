using RollingUpgrade.Journaling;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// Where a run's HTML report goes: <c>runs/RUN.html</c> in the cluster's state folder (next to
/// the journal for the file store; the same local folder when the journal is in a shared database).
/// </summary>
internal static class ReportFiles
{
    public static string PathFor(Plan plan, StateOptions options, string runId)
    {
        var root = options.Dir ?? StateDirectory.DefaultRoot(plan.SourcePath);
        return Path.Combine(new StateDirectory(root, plan.Cluster.Name).RunsFolder, runId + ".html");
    }
}
