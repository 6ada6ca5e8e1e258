using System.Data;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.State.Postgres;

/// <summary>
/// Who holds (or asks for) a cluster's run lease; <paramref name="BootId"/> and <paramref name="StartTime"/> identify
/// the process exactly, so a holder on the same host can be proven gone.
/// </summary>
public sealed record LeaseHolder(
    string User,
    string Host,
    int Pid,
    string RunId,
    string? BootId = null,
    long? StartTime = null
);

/// <summary>The lease row as the database has it; <see cref="Expired"/> and the times are the database's.</summary>
public sealed record LeaseInfo(
    LeaseHolder Holder,
    long Epoch,
    DateTimeOffset AcquiredAt,
    DateTimeOffset RenewedAt,
    DateTimeOffset ExpiresAt,
    bool Released,
    bool Expired
);

/// <summary>The answer to an acquisition: the lease, or who holds it and whether that holder's lease expired.</summary>
public sealed record LeaseAttempt(PostgresLease? Lease, LeaseInfo? Holder);

/// <summary>
/// A write or renewal by a holder whose lease was taken over or ran out: it must stop, having written nothing.
/// </summary>
public sealed class LeaseLostException(string message) : JournalUnavailableException(message)
{
    public override bool LeaseLost => true;
}

/// <summary>A database whose state schema is newer than this binary, or not one of ours.</summary>
public sealed class StateSchemaException(string message) : BadStateException(message);

/// <summary>
/// Shared run state in PostgreSQL: per-cluster run leases with an epoch that grows on every acquisition, and run
/// journals whose every append is fenced by that epoch in the same statement (a holder that lost its lease writes
/// nothing). Times are the database's own, so hosts with skewed clocks agree on expiry. The schema is created and
/// migrated here (versioned DDL); a newer schema than this binary knows is refused.
/// </summary>
public sealed class PostgresStateStore : IAsyncDisposable
{
    /// <summary>The schema version this binary writes and reads.</summary>
    public const int SchemaVersion = 2;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly NpgsqlDataSource _source;
    private readonly string _schema;

    private PostgresStateStore(NpgsqlDataSource source, string schema)
    {
        _source = source;
        _schema = schema;
    }

    /// <summary>Why a schema name cannot be used, or null.</summary>
    public static string? CheckSchemaName(string schema) => Plans.Validation.ValueRules.SchemaName(schema);

    public static async Task<PostgresStateStore> OpenAsync(
        string connectionString,
        string schema = "rollingupgrade",
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (CheckSchemaName(schema) is { } problem)
        {
            throw new ArgumentException($"state schema '{schema}' {problem}", nameof(schema));
        }

        var source = NpgsqlDataSource.Create(connectionString);
        var store = new PostgresStateStore(source, schema);
        try
        {
            await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public string Schema => _schema;

    private string T(string table) => $"\"{_schema}\".{table}";

    /// <summary>
    /// Creates the schema, or checks its version; concurrent first runs are serialized by a transaction-scoped
    /// advisory lock.
    /// </summary>
    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await Execute(connection, "SELECT pg_advisory_xact_lock(hashtext('rollingupgrade-state-schema'))")
            .ConfigureAwait(false);
        await Execute(connection, $"CREATE SCHEMA IF NOT EXISTS \"{_schema}\"").ConfigureAwait(false);
        await Execute(connection, $"CREATE TABLE IF NOT EXISTS {T("schema_version")} (version integer NOT NULL)")
            .ConfigureAwait(false);
        await using var read = new NpgsqlCommand($"SELECT max(version) FROM {T("schema_version")}", connection);
        var found = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        var version = found is int v ? v : 0;
        RefuseNewer(version);
        IEnumerable<string>[] steps = [Version1(), Version2()];
        for (var next = version + 1; next <= SchemaVersion; next++)
        {
            foreach (var statement in steps[next - 1])
            {
                await Execute(connection, statement).ConfigureAwait(false);
            }

            await Execute(
                    connection,
                    $"INSERT INTO {T("schema_version")} (version) VALUES "
                        + $"({next.ToString(CultureInfo.InvariantCulture)})"
                )
                .ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        static async Task Execute(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    private void RefuseNewer(int version)
    {
        if (version > SchemaVersion)
        {
            throw new StateSchemaException(
                $"the state schema \"{_schema}\" is at version {version}, newer than this rollingupgrade knows "
                    + $"({SchemaVersion}): a newer rollingupgrade wrote it; use that version (or a newer one)"
            );
        }
    }

    /// <summary>
    /// Connects and reads the schema version without creating or changing anything (for `validate`): 0 when the
    /// schema does not exist yet (the first run creates it).
    /// </summary>
    /// <exception cref="StateSchemaException">the schema is newer than this binary.</exception>
    public static async Task<int> CheckAsync(
        string connectionString,
        string schema,
        CancellationToken cancellationToken = default
    )
    {
        if (CheckSchemaName(schema) is { } problem)
        {
            throw new ArgumentException($"state schema '{schema}' {problem}", nameof(schema));
        }

        await using var source = NpgsqlDataSource.Create(connectionString);
        var store = new PostgresStateStore(source, schema);
        await using var command = source.CreateCommand("SELECT to_regclass($1) IS NOT NULL");
        command.Parameters.Add(new() { Value = $"\"{schema}\".schema_version" });
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        await using var read = source.CreateCommand($"SELECT max(version) FROM {store.T("schema_version")}");
        var version = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int v ? v : 0;
        store.RefuseNewer(version);
        return version;
    }

    private IEnumerable<string> Version1() =>
        [
            $"""
                CREATE TABLE {T("leases")} (
                  cluster text PRIMARY KEY,
                  epoch bigint NOT NULL,
                  holder_user text NOT NULL,
                  holder_host text NOT NULL,
                  holder_pid integer NOT NULL,
                  run_id text NOT NULL,
                  acquired_at timestamptz NOT NULL,
                  renewed_at timestamptz NOT NULL,
                  expires_at timestamptz NOT NULL,
                  released boolean NOT NULL DEFAULT false
                )
                """,
            $"""
                CREATE TABLE {T("runs")} (
                  cluster text NOT NULL,
                  run_id text NOT NULL,
                  created_at timestamptz NOT NULL DEFAULT now(),
                  PRIMARY KEY (cluster, run_id)
                )
                """,
            $"CREATE TABLE {T("current_run")} (cluster text PRIMARY KEY, run_id text NOT NULL)",
            $"""
                CREATE TABLE {T("journal")} (
                  cluster text NOT NULL,
                  run_id text NOT NULL,
                  seq bigint NOT NULL,
                  epoch bigint NOT NULL,
                  record jsonb NOT NULL,
                  written_at timestamptz NOT NULL DEFAULT now(),
                  PRIMARY KEY (cluster, run_id, seq)
                )
                """,
        ];

    /// <summary>
    /// Version 2: the holder's boot id and process start time (a dead holder on the same host is provable), and
    /// requests from other processes to a live run (promote, rollback).
    /// </summary>
    private IEnumerable<string> Version2() =>
        [
            $"ALTER TABLE {T("leases")} ADD COLUMN holder_boot text, ADD COLUMN holder_start bigint",
            $"""
                CREATE TABLE {T("requests")} (
                  cluster text NOT NULL,
                  kind text NOT NULL,
                  value text NOT NULL,
                  requested_by text NOT NULL,
                  requested_at timestamptz NOT NULL DEFAULT now(),
                  PRIMARY KEY (cluster, kind)
                )
                """,
        ];

    /// <summary>
    /// Takes the cluster's lease for <paramref name="ttl"/>: free or released, it is taken; expired, only with
    /// <paramref name="takeOverExpired"/>; live, never. Each acquisition increases the epoch.
    /// </summary>
    public async Task<LeaseAttempt> AcquireAsync(
        string cluster,
        LeaseHolder holder,
        TimeSpan ttl,
        bool takeOverExpired,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(holder);
        await using var command = _source.CreateCommand(
            $"""
            INSERT INTO {T("leases")} AS l
              (cluster, epoch, holder_user, holder_host, holder_pid, run_id, acquired_at, renewed_at, expires_at,
               holder_boot, holder_start)
            VALUES ($1, 1, $2, $3, $4, $5, now(), now(), now() + $6, $8, $9)
            ON CONFLICT (cluster) DO UPDATE SET
              epoch = l.epoch + 1, holder_user = $2, holder_host = $3, holder_pid = $4, run_id = $5,
              acquired_at = now(), renewed_at = now(), expires_at = now() + $6, released = false,
              holder_boot = $8, holder_start = $9
            WHERE l.released OR (l.expires_at <= now() AND $7)
            RETURNING epoch
            """
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = holder.User });
        command.Parameters.Add(new() { Value = holder.Host });
        command.Parameters.Add(new() { Value = holder.Pid });
        command.Parameters.Add(new() { Value = holder.RunId });
        command.Parameters.Add(new() { Value = ttl });
        command.Parameters.Add(new() { Value = takeOverExpired });
        command.Parameters.Add(
            new() { Value = (object?)holder.BootId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text }
        );
        command.Parameters.Add(
            new() { Value = (object?)holder.StartTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint }
        );
        var epoch = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (epoch is long taken)
        {
            return new LeaseAttempt(new PostgresLease(this, cluster, taken, ttl), null);
        }

        return new LeaseAttempt(null, await LeaseAsync(cluster, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The cluster's lease row, or null when nobody ever took it.</summary>
    public Task<LeaseInfo?> LeaseAsync(string cluster, CancellationToken cancellationToken = default) =>
        ReadAsync(() => LeaseOnceAsync(cluster, cancellationToken));

    private async Task<LeaseInfo?> LeaseOnceAsync(string cluster, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            $"""
            SELECT holder_user, holder_host, holder_pid, run_id, epoch, acquired_at, renewed_at, expires_at, released,
                   expires_at <= now(), holder_boot, holder_start
            FROM {T("leases")} WHERE cluster = $1
            """
        );
        command.Parameters.Add(new() { Value = cluster });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new LeaseInfo(
            new LeaseHolder(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetString(3),
                reader.IsDBNull(10) ? null : reader.GetString(10),
                reader.IsDBNull(11) ? null : reader.GetInt64(11)
            ),
            reader.GetInt64(4),
            reader.GetFieldValue<DateTimeOffset>(5),
            reader.GetFieldValue<DateTimeOffset>(6),
            reader.GetFieldValue<DateTimeOffset>(7),
            reader.GetBoolean(8),
            reader.GetBoolean(9)
        );
    }

    /// <summary>Extends a live lease of this epoch; false when it expired or another holder took it.</summary>
    internal async Task<bool> RenewAsync(string cluster, long epoch, TimeSpan ttl, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            $"""
            UPDATE {T("leases")} SET renewed_at = now(), expires_at = now() + $3
            WHERE cluster = $1 AND epoch = $2 AND NOT released AND expires_at > now()
            """
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = epoch });
        command.Parameters.Add(new() { Value = ttl });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    internal async Task ReleaseAsync(string cluster, long epoch, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            $"UPDATE {T("leases")} SET released = true, expires_at = now() WHERE cluster = $1 AND epoch = $2"
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = epoch });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends one journal record, committed before this returns, if and only if <paramref name="lease"/> is still
    /// the cluster's live lease (checked in the same statement); otherwise <see cref="LeaseLostException"/>. A
    /// connection that broke is tried once more on a fresh one; a record the first try did commit is recognised, not
    /// written twice. A database that cannot be reached gives <see cref="JournalUnavailableException"/>.
    /// </summary>
    public async Task AppendAsync(
        PostgresLease lease,
        JournalRecord record,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(record);
        int written;
        try
        {
            written = await AppendOnceAsync(lease, record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException { IsTransient: true } or TimeoutException)
        {
            _source.Clear();
            try
            {
                written = await AppendOnceAsync(lease, record, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException duplicate) when (duplicate.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                if (await IsStoredAsync(lease.Cluster, record, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                throw Unreachable(duplicate);
            }
            catch (Exception again) when (again is NpgsqlException or TimeoutException)
            {
                throw Unreachable(again);
            }
        }
        catch (Exception e) when (e is NpgsqlException or DataException)
        {
            throw Unreachable(e);
        }

        if (written != 1)
        {
            throw new LeaseLostException(
                $"the run lease of {lease.Cluster} (epoch {lease.Epoch}) is no longer held: another run took it over "
                    + "or it expired; nothing was written"
            );
        }

        JournalUnavailableException Unreachable(Exception e) =>
            new($"the journal could not be written to the state database (schema \"{_schema}\"): {e.Message}", e);
    }

    private async Task<bool> IsStoredAsync(string cluster, JournalRecord record, CancellationToken cancellationToken)
    {
        var stored = await ReadJournalAsync(cluster, record.RunId ?? string.Empty, cancellationToken)
            .ConfigureAwait(false);
        return stored.FirstOrDefault(r => r.Sequence == record.Sequence) is { } same
            && same.Type == record.Type
            && same.At == record.At
            && same.Step == record.Step;
    }

    private async Task<int> AppendOnceAsync(
        PostgresLease lease,
        JournalRecord record,
        CancellationToken cancellationToken
    )
    {
        await using var command = _source.CreateCommand(
            $"""
            WITH live AS (
              SELECT 1 FROM {T("leases")}
              WHERE cluster = $1 AND epoch = $4 AND NOT released AND expires_at > now()
              FOR SHARE
            ), run AS (
              INSERT INTO {T("runs")} (cluster, run_id) SELECT $1, $2 FROM live
              ON CONFLICT DO NOTHING
            )
            INSERT INTO {T("journal")} (cluster, run_id, seq, epoch, record)
            SELECT $1, $2, $3, $4, $5::jsonb FROM live
            """
        );
        command.Parameters.Add(new() { Value = lease.Cluster });
        command.Parameters.Add(new() { Value = record.RunId ?? string.Empty });
        command.Parameters.Add(new() { Value = record.Sequence });
        command.Parameters.Add(new() { Value = lease.Epoch });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(record, Json) });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a read; after a connection failure (a server restarted under a pooled connection) the pool is emptied
    /// and the read is tried once more. Writes are not repeated here: their callers decide.
    /// </summary>
    private async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (e.IsTransient)
        {
            _source.Clear();
            return await read().ConfigureAwait(false);
        }
    }

    /// <summary>A run's journal in order.</summary>
    public Task<IReadOnlyList<JournalRecord>> ReadJournalAsync(
        string cluster,
        string runId,
        CancellationToken cancellationToken = default
    ) => ReadAsync(() => ReadJournalOnceAsync(cluster, runId, cancellationToken));

    private async Task<IReadOnlyList<JournalRecord>> ReadJournalOnceAsync(
        string cluster,
        string runId,
        CancellationToken cancellationToken
    )
    {
        await using var command = _source.CreateCommand(
            $"SELECT record::text FROM {T("journal")} WHERE cluster = $1 AND run_id = $2 ORDER BY seq"
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = runId });
        var records = new List<JournalRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(
                JsonSerializer.Deserialize<JournalRecord>(reader.GetString(0), Json)
                    ?? throw new StateSchemaException($"a journal record of run {runId} of {cluster} is empty")
            );
        }

        return records;
    }

    /// <summary>The cluster's runs, oldest first.</summary>
    public Task<IReadOnlyList<string>> RunIdsAsync(string cluster, CancellationToken cancellationToken = default) =>
        ReadAsync(() => RunIdsOnceAsync(cluster, cancellationToken));

    private async Task<IReadOnlyList<string>> RunIdsOnceAsync(string cluster, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            // Run ids name their start to the second only: two runs begun in the same second are told apart by when
            // their row was written.
            $"SELECT run_id FROM {T("runs")} WHERE cluster = $1 ORDER BY created_at, run_id"
        );
        command.Parameters.Add(new() { Value = cluster });
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Makes <paramref name="runId"/> the cluster's current run, fenced by the lease as appends are.</summary>
    public async Task SetCurrentAsync(PostgresLease lease, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await using var command = _source.CreateCommand(
            $"""
            INSERT INTO {T("current_run")} (cluster, run_id)
            SELECT $1, $2 WHERE EXISTS (
              SELECT 1 FROM {T("leases")} WHERE cluster = $1 AND epoch = $3 AND NOT released AND expires_at > now())
            ON CONFLICT (cluster) DO UPDATE SET run_id = excluded.run_id
            """
        );
        command.Parameters.Add(new() { Value = lease.Cluster });
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = lease.Epoch });
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new LeaseLostException($"the run lease of {lease.Cluster} is no longer held; nothing was written");
        }
    }

    public Task<string?> CurrentRunIdAsync(string cluster, CancellationToken cancellationToken = default) =>
        ReadAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                $"SELECT run_id FROM {T("current_run")} WHERE cluster = $1"
            );
            command.Parameters.Add(new() { Value = cluster });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        });

    /// <summary>A request for the live run, from any process: not fenced, as it holds no lease.</summary>
    public async Task RequestAsync(
        string cluster,
        string kind,
        string value,
        string requestedBy,
        CancellationToken cancellationToken = default
    )
    {
        await using var command = _source.CreateCommand(
            $"""
            INSERT INTO {T("requests")} (cluster, kind, value, requested_by) VALUES ($1, $2, $3, $4)
            ON CONFLICT (cluster, kind) DO UPDATE
              SET value = excluded.value, requested_by = excluded.requested_by, requested_at = now()
            """
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = kind });
        command.Parameters.Add(new() { Value = value });
        command.Parameters.Add(new() { Value = requestedBy });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<string?> ReadRequestAsync(string cluster, string kind, CancellationToken cancellationToken = default) =>
        ReadAsync(async () =>
        {
            await using var command = _source.CreateCommand(
                $"SELECT value FROM {T("requests")} WHERE cluster = $1 AND kind = $2"
            );
            command.Parameters.Add(new() { Value = cluster });
            command.Parameters.Add(new() { Value = kind });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        });

    public async Task ClearRequestAsync(string cluster, string kind, CancellationToken cancellationToken = default)
    {
        await using var command = _source.CreateCommand(
            $"DELETE FROM {T("requests")} WHERE cluster = $1 AND kind = $2"
        );
        command.Parameters.Add(new() { Value = cluster });
        command.Parameters.Add(new() { Value = kind });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal void ClearPool() => _source.Clear();

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}

/// <summary>
/// A held run lease. <see cref="RenewAsync"/> extends it (every ttl/3 from a background loop); once a renewal fails
/// the lease is lost for good: appends are refused by the database and the run must stop at its next safe point.
/// </summary>
public sealed class PostgresLease
{
    private readonly PostgresStateStore _store;
    private readonly TimeSpan _ttl;
    private volatile bool _lost;

    internal PostgresLease(PostgresStateStore store, string cluster, long epoch, TimeSpan ttl)
    {
        _store = store;
        Cluster = cluster;
        Epoch = epoch;
        _ttl = ttl;
    }

    public string Cluster { get; }

    public long Epoch { get; }

    public bool Lost => _lost;

    public async Task<bool> RenewAsync(CancellationToken cancellationToken = default)
    {
        if (_lost)
        {
            return false;
        }

        try
        {
            if (await _store.RenewAsync(Cluster, Epoch, _ttl, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or DataException)
        {
            // The database could not be reached: the lease may run out meanwhile, so it counts as lost.
            _store.ClearPool();
        }

        _lost = true;
        return false;
    }

    public Task ReleaseAsync(CancellationToken cancellationToken = default) =>
        _store.ReleaseAsync(Cluster, Epoch, cancellationToken);
}
