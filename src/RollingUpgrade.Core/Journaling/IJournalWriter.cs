namespace RollingUpgrade.Journaling;

/// <summary>
/// Where a run writes its journal: each record is durable (fsynced, or committed) before Append returns, so a step
/// reported as started or done is never lost. The file journal is one; a shared store is another.
/// </summary>
public interface IJournalWriter
{
    string RunId { get; }

    /// <summary>Where the journal is, for messages: a file path, or the store and run.</summary>
    string Location { get; }

    /// <summary>Stamps the record (sequence, time, run id; secrets redacted), makes it durable, returns it.</summary>
    JournalRecord Append(JournalRecord record);
}
