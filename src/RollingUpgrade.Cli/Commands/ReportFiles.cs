using RollingUpgrade.Journaling;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Reporting;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// Where a run's HTML report goes and how it is made: <c>runs/RUN.html</c> in the cluster's state folder (next to
/// the journal for the file store; the same local folder when the journal is in a shared database).
/// </summary>
internal static class ReportFiles
{
    public static string PathFor(Plan plan, StateOptions options, string runId)
    {
        var root = options.Dir ?? StateDirectory.DefaultRoot(plan.SourcePath);
        return Path.Combine(new StateDirectory(root, plan.Cluster.Name).RunsFolder, runId + ".html");
    }

    /// <summary>Writes the report of <paramref name="runId"/>; null when the store has no such run.</summary>
    public static async Task<string?> WriteAsync(
        IRunStore store,
        Plan plan,
        string runId,
        string path,
        SecretRedactor redactor,
        CancellationToken cancellationToken = default
    )
    {
        var records = await store.ReadJournalAsync(plan.Cluster.Name, runId, cancellationToken).ConfigureAwait(false);
        if (records is null || RunReport.FromJournal(runId, plan.Cluster.Name, records) is not { } report)
        {
            return null;
        }

        // The journal is redacted as it is written; the report goes through the redactor again all the same.
        var html = redactor.Redact(ReportHtml.Render(report));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, html, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
