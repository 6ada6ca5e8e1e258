using RollingUpgrade.Journaling;

namespace RollingUpgrade.Reporting;

/// <summary>Writes the HTML report of one run, read from any state store, to a file (replaced whole).</summary>
public static class ReportFile
{
    /// <summary>The path written, or null when the store has no such run (or no run-started record).</summary>
    public static async Task<string?> WriteAsync(
        IRunStore store,
        string cluster,
        string runId,
        string path,
        SecretRedactor redactor,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(redactor);
        var records = await store.ReadJournalAsync(cluster, runId, cancellationToken).ConfigureAwait(false);
        if (records is null || RunReport.FromJournal(runId, cluster, records) is not { } report)
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
