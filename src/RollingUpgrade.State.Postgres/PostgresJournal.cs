using RollingUpgrade.Journaling;

namespace RollingUpgrade.State.Postgres;

/// <summary>
/// A run's journal in PostgreSQL: records stamped exactly as the file journal stamps them, each committed (and
/// fenced by the run lease) before Append returns. A holder that lost its lease gets <see cref="LeaseLostException"/>
/// and has written nothing.
/// </summary>
public sealed class PostgresJournal : IJournalWriter
{
    private readonly PostgresStateStore _store;
    private readonly PostgresLease _lease;
    private readonly TimeProvider _time;
    private readonly SecretRedactor _redactor;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _sequence;

    private PostgresJournal(
        PostgresStateStore store,
        PostgresLease lease,
        string runId,
        TimeProvider time,
        SecretRedactor redactor,
        long sequence
    )
    {
        _store = store;
        _lease = lease;
        RunId = runId;
        _time = time;
        _redactor = redactor;
        _sequence = sequence;
    }

    /// <summary>Opens the journal of <paramref name="runId"/> to go on after its last record.</summary>
    public static async Task<PostgresJournal> OpenAsync(
        PostgresStateStore store,
        PostgresLease lease,
        string runId,
        TimeProvider time,
        SecretRedactor redactor,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(lease);
        var existing = await store.ReadJournalAsync(lease.Cluster, runId, cancellationToken).ConfigureAwait(false);
        return new PostgresJournal(
            store,
            lease,
            runId,
            time,
            redactor,
            existing.Count == 0 ? 0 : existing[^1].Sequence
        );
    }

    public string RunId { get; }

    public string Location => $"PostgreSQL schema \"{_store.Schema}\", run {RunId} of {_lease.Cluster}";

    public JournalRecord Append(JournalRecord record)
    {
        _gate.Wait();
        try
        {
            var stamped = Journal.Stamp(record, _sequence + 1, _time.GetUtcNow(), RunId, _redactor);
            _store.AppendAsync(_lease, stamped).GetAwaiter().GetResult();
            _sequence++;
            return stamped;
        }
        finally
        {
            _gate.Release();
        }
    }
}
