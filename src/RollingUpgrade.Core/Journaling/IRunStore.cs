namespace RollingUpgrade.Journaling;

/// <summary>What another process asks of a live run through the state store.</summary>
public enum RunRequest
{
    /// <summary>`rollingupgrade promote`: the promoted percentage.</summary>
    Promote,

    /// <summary>`rollingupgrade rollback`: move traffic back to the old cluster (parallel), or take the upgraded
    /// nodes back to the previous version (rolling).</summary>
    Rollback,

    /// <summary>`rollingupgrade pause`: hold at the next safe point, every node serving.</summary>
    Pause,

    /// <summary>`rollingupgrade resume` of a paused live run: go on.</summary>
    Continue,
}

/// <summary>
/// Who holds a cluster's lock (file backend) or run lease (shared backend). <see cref="Stale"/>: provably gone
/// (file) or its lease expired (shared); <see cref="LastSeen"/> and <see cref="ExpiresAt"/> are the lease's.
/// </summary>
public sealed record RunHolder(string User, string Host, int Pid, string RunId, DateTimeOffset Since)
{
    public bool Stale { get; init; }

    public DateTimeOffset? LastSeen { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>"process 42 on bastion (alice, run R, since ...; last seen ...)".</summary>
    public string Describe() =>
        $"process {Pid} on {Host} ({User}, run {RunId}, since {Since:u}"
        + (LastSeen is { } seen ? $"; last seen {seen:u}" : string.Empty)
        + ")";
}

/// <summary>What taking a cluster's run slot needs.</summary>
public sealed record ClaimRequest(
    string Cluster,
    string RunId,
    bool IsNew,
    bool TakeOverStale,
    TimeProvider Time,
    SecretRedactor Redactor
)
{
    /// <summary>Said while the claim waits (for a dead holder's lease to run out).</summary>
    public Action<string> Notify { get; init; } = _ => { };
}

/// <summary>
/// How taking the run slot went: the claim when taken (and <see cref="Holder"/>, the previous holder, when it was
/// taken over); otherwise who holds it, or null when the holder cannot be read.
/// </summary>
public sealed record ClaimAttempt(IRunClaim? Claim, RunHolder? Holder);

/// <summary>
/// A held run slot: the journal it writes, and <see cref="Lost"/>, cancelled for good once the slot is no longer
/// held (a shared lease that could not be renewed, or was taken over). Disposing releases the slot.
/// </summary>
public interface IRunClaim : IAsyncDisposable
{
    IJournalWriter Journal { get; }

    CancellationToken Lost { get; }

    /// <summary>Why the slot was lost, once it is.</summary>
    string? LostReason { get; }
}

/// <summary>
/// Where runs live: journals, the current run of each cluster, the one-run-per-cluster slot (a lock file, or a
/// fenced lease in a shared database), and requests from other processes (promote, rollback). The file backend is
/// the default; a shared database lets a team work on one cluster from several machines.
/// </summary>
public interface IRunStore : IAsyncDisposable
{
    /// <summary>"file" or "postgres".</summary>
    string Kind { get; }

    /// <summary>Where a cluster's state is, for messages (never holds a secret).</summary>
    string Describe(string cluster);

    /// <summary>The run slot, for messages: "the lock FILE" or "the run lease in ...".</summary>
    string DescribeSlot(string cluster);

    Task<string?> CurrentRunIdAsync(string cluster, CancellationToken cancellationToken = default);

    /// <summary>A run's journal in order, or null when the store has no such run.</summary>
    Task<IReadOnlyList<JournalRecord>?> ReadJournalAsync(
        string cluster,
        string runId,
        CancellationToken cancellationToken = default
    );

    /// <summary>The cluster's runs, oldest first.</summary>
    Task<IReadOnlyList<string>> RunIdsAsync(string cluster, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the cluster's run slot for <see cref="ClaimRequest.RunId"/> (making it the current run when new) and
    /// opens its journal to go on after its last record. A live holder is never displaced; a stale one only with
    /// <see cref="ClaimRequest.TakeOverStale"/>, or when it is provably gone.
    /// </summary>
    Task<ClaimAttempt> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken = default);

    /// <summary>Who holds the cluster's slot now, or null when it is free.</summary>
    Task<RunHolder?> HolderAsync(string cluster, CancellationToken cancellationToken = default);

    Task RequestAsync(string cluster, RunRequest request, string value, CancellationToken cancellationToken = default);

    /// <summary>The value of a pending request, or null.</summary>
    Task<string?> ReadRequestAsync(string cluster, RunRequest request, CancellationToken cancellationToken = default);

    Task ClearRequestAsync(string cluster, RunRequest request, CancellationToken cancellationToken = default);
}

/// <summary>
/// The journal cannot be written (the shared store is unreachable, or the run lease was lost): the run stops before
/// it touches a load balancer or node again.
/// </summary>
public class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The run's lease (its slot on the cluster) was lost, rather than the store being unreachable.</summary>
    public virtual bool LeaseLost { get; init; }
}
