using System.Data;
using Npgsql;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.State.Postgres;

/// <summary>
/// The shared state store: journals, current runs and requests in PostgreSQL, and one fenced run lease per cluster,
/// renewed in the background while a run holds it. Any machine that reaches the database sees the same runs.
/// </summary>
public sealed class PostgresRunStore : IRunStore
{
    private readonly PostgresStateStore _store;
    private readonly string _where;

    private PostgresRunStore(PostgresStateStore store, string where, TimeSpan leaseTtl)
    {
        _store = store;
        _where = where;
        LeaseTtl = leaseTtl;
    }

    /// <summary>How long a lease lasts without renewal; renewed every third of it.</summary>
    public TimeSpan LeaseTtl { get; }

    /// <summary>Connects, creates or migrates the schema, and checks its version.</summary>
    public static async Task<PostgresRunStore> OpenAsync(
        string connectionString,
        string schema,
        TimeSpan leaseTtl,
        CancellationToken cancellationToken = default
    )
    {
        var store = await PostgresStateStore
            .OpenAsync(connectionString, schema, cancellationToken)
            .ConfigureAwait(false);
        return new PostgresRunStore(store, Where(connectionString, schema), leaseTtl);
    }

    /// <summary>"PostgreSQL db.example:5432/ops, schema "rollingupgrade"": never the password.</summary>
    public static string Where(string connectionString, string schema)
    {
        var parts = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL {parts.Host ?? "localhost"}:{parts.Port}/{parts.Database ?? parts.Username ?? "?"}, "
            + $"schema \"{schema}\"";
    }

    public string Kind => "postgres";

    public string Describe(string cluster) => $"{_where} (cluster {cluster})";

    public string DescribeSlot(string cluster) => $"the run lease of {cluster} in {_where}";

    public Task<string?> CurrentRunIdAsync(string cluster, CancellationToken cancellationToken = default) =>
        Guarded(() => _store.CurrentRunIdAsync(cluster, cancellationToken));

    public async Task<IReadOnlyList<JournalRecord>?> ReadJournalAsync(
        string cluster,
        string runId,
        CancellationToken cancellationToken = default
    )
    {
        var records = await Guarded(() => _store.ReadJournalAsync(cluster, runId, cancellationToken))
            .ConfigureAwait(false);
        return records.Count == 0 ? null : records;
    }

    public Task<IReadOnlyList<string>> RunIdsAsync(string cluster, CancellationToken cancellationToken = default) =>
        Guarded(() => _store.RunIdsAsync(cluster, cancellationToken));

    public Task<ClaimAttempt> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken = default) =>
        Guarded(() => ClaimOnceAsync(request, cancellationToken));

    private async Task<ClaimAttempt> ClaimOnceAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var me = new LeaseHolder(
            Environment.UserName,
            Environment.MachineName,
            Environment.ProcessId,
            request.RunId,
            RunLock.BootId(),
            RunLock.StartTimeOf(Environment.ProcessId)
        );
        var before = await _store.LeaseAsync(request.Cluster, cancellationToken).ConfigureAwait(false);
        var attempt = await _store
            .AcquireAsync(request.Cluster, me, LeaseTtl, request.TakeOverStale, cancellationToken)
            .ConfigureAwait(false);

        // A holder on this host that provably no longer exists (a run killed here) is waited out, not overridden:
        // its lease runs out within the lease time, and then this run takes it.
        var waited = false;
        while (attempt.Lease is null && attempt.Holder is { Released: false } held && ProvablyGone(held.Holder))
        {
            if (!waited)
            {
                request.Notify(
                    $"the run lease of {request.Cluster} is held by process {held.Holder.Pid} on this host, which no "
                        + $"longer runs; waiting for it to run out at {held.ExpiresAt:u}"
                );
                waited = true;
            }

            if (!held.Expired)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }

            before = held;
            attempt = await _store
                .AcquireAsync(request.Cluster, me, LeaseTtl, takeOverExpired: held.Expired, cancellationToken)
                .ConfigureAwait(false);
        }

        if (attempt.Lease is not { } lease)
        {
            return new ClaimAttempt(null, attempt.Holder is { Released: false } h ? ToHolder(h) : null);
        }

        var keeper = new LeaseKeeper(lease, LeaseTtl);
        try
        {
            if (request.IsNew)
            {
                await _store.SetCurrentAsync(lease, request.RunId, cancellationToken).ConfigureAwait(false);
            }

            var journal = await PostgresJournal
                .OpenAsync(_store, lease, request.RunId, request.Time, request.Redactor, cancellationToken)
                .ConfigureAwait(false);
            var previous = before is { Released: false } p && p.Epoch == lease.Epoch - 1 ? ToHolder(p) : null;
            return new ClaimAttempt(new LeaseClaim(lease, keeper, journal), previous);
        }
        catch
        {
            await new LeaseClaim(lease, keeper, null).DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<RunHolder?> HolderAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var lease = await Guarded(() => _store.LeaseAsync(cluster, cancellationToken)).ConfigureAwait(false);
        return lease is { Released: false } ? ToHolder(lease) : null;
    }

    public Task RequestAsync(
        string cluster,
        RunRequest request,
        string value,
        CancellationToken cancellationToken = default
    ) =>
        Guarded(async () =>
        {
            await _store
                .RequestAsync(
                    cluster,
                    Name(request),
                    value,
                    $"{Environment.UserName}@{Environment.MachineName}",
                    cancellationToken
                )
                .ConfigureAwait(false);
            return true;
        });

    public Task<string?> ReadRequestAsync(
        string cluster,
        RunRequest request,
        CancellationToken cancellationToken = default
    ) => Guarded(() => _store.ReadRequestAsync(cluster, Name(request), cancellationToken));

    public Task ClearRequestAsync(string cluster, RunRequest request, CancellationToken cancellationToken = default) =>
        Guarded(async () =>
        {
            await _store.ClearRequestAsync(cluster, Name(request), cancellationToken).ConfigureAwait(false);
            return true;
        });

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private static string Name(RunRequest request) =>
        request switch
        {
            RunRequest.Promote => "promote",
            RunRequest.Pause => "pause",
            RunRequest.Continue => "continue",
            _ => "rollback",
        };

    private static RunHolder ToHolder(LeaseInfo lease) =>
        new(lease.Holder.User, lease.Holder.Host, lease.Holder.Pid, lease.Holder.RunId, lease.AcquiredAt)
        {
            Stale = lease.Expired,
            LastSeen = lease.RenewedAt,
            ExpiresAt = lease.ExpiresAt,
        };

    private static bool ProvablyGone(LeaseHolder holder) =>
        holder is { BootId: { } boot, StartTime: { } start }
        && RunLock.IsProvablyGone(
            new RunLock.Holder(holder.Pid, holder.Host, holder.RunId, DateTimeOffset.MinValue, holder.User, start, boot)
        );

    /// <summary>A database that cannot be reached mid-run stops the run as an unwritable journal does.</summary>
    private async Task<T> Guarded<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or DataException)
        {
            throw new JournalUnavailableException(
                $"the state database ({_where}) could not be reached: {e.Message}",
                e
            );
        }
    }

    private sealed class LeaseClaim(PostgresLease lease, LeaseKeeper keeper, PostgresJournal? journal) : IRunClaim
    {
        public IJournalWriter Journal => journal ?? throw new InvalidOperationException("no journal");

        public CancellationToken Lost => keeper.Lost;

        public string? LostReason => keeper.Reason;

        public async ValueTask DisposeAsync()
        {
            await keeper.DisposeAsync().ConfigureAwait(false);

            // Released only if still this epoch's (the statement checks it): a lease taken over stays with its taker.
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await lease.ReleaseAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
            {
                // The database is gone: the lease runs out on its own within its lease time.
            }
        }
    }
}
