namespace RollingUpgrade.Journaling;

/// <summary>
/// The default state store: a folder per cluster with a JSON Lines journal per run (fsynced per record), the
/// <c>current</c> pointer, a lock file naming the holding process, and request marker files.
/// </summary>
public sealed class FileRunStore(string root) : IRunStore
{
    public string Root { get; } = root;

    public string Kind => "file";

    public string Describe(string cluster) => new StateDirectory(Root, cluster).ClusterFolder;

    public string DescribeSlot(string cluster) => $"the lock {new StateDirectory(Root, cluster).LockPath}";

    /// <exception cref="StateFolderException">a path is not what the tool made there.</exception>
    public StateDirectory Open(string cluster) => StateDirectory.Open(Root, cluster);

    public Task<string?> CurrentRunIdAsync(string cluster, CancellationToken cancellationToken = default) =>
        Task.FromResult(Open(cluster).CurrentRunId());

    public Task<IReadOnlyList<JournalRecord>?> ReadJournalAsync(
        string cluster,
        string runId,
        CancellationToken cancellationToken = default
    )
    {
        var path = Open(cluster).JournalPath(runId);
        return Task.FromResult(File.Exists(path) ? Journal.Read(path) : null);
    }

    public Task<IReadOnlyList<string>> RunIdsAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var state = Open(cluster);
        if (!Directory.Exists(state.RunsFolder))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var ids = Directory
            .EnumerateFiles(state.RunsFolder, "*.jsonl")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToList();
        // Run ids name their start to the second, then a random suffix: within one second, the first record of each
        // journal says which began first (read only for those).
        var seconds = ids.GroupBy(Second, StringComparer.Ordinal).Where(g => g.Count() > 1).SelectMany(g => g);
        var began = seconds.ToDictionary(
            id => id,
            id => Journal.FirstRecordAt(state.JournalPath(id)) ?? DateTimeOffset.MaxValue,
            StringComparer.Ordinal
        );
        IReadOnlyList<string> ordered = ids.OrderBy(Second, StringComparer.Ordinal)
            .ThenBy(id => began.GetValueOrDefault(id))
            .ThenBy(id => id, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(ordered);
    }

    /// <summary>The part of a run id that names when it began (to the second): what precedes its last '-'.</summary>
    private static string Second(string runId) => runId.LastIndexOf('-') is var dash and > 0 ? runId[..dash] : runId;

    public Task<ClaimAttempt> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var state = Open(request.Cluster);
        var attempt = RunLock.TryAcquire(state.LockPath, request.RunId, request.TakeOverStale, request.Time);
        var holder = attempt.Holder is { } h ? ToHolder(h, attempt.HolderIsStale) : null;
        if (attempt.Lock is not { } runLock)
        {
            return Task.FromResult(new ClaimAttempt(null, holder));
        }

        try
        {
            if (request.IsNew)
            {
                state.SetCurrent(request.RunId);
            }

            var journal = Journal.Open(state.JournalPath(request.RunId), request.Time, request.Redactor);
            return Task.FromResult(new ClaimAttempt(new FileClaim(runLock, journal), holder));
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    public Task<RunHolder?> HolderAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var path = Open(cluster).LockPath;
        var holder = File.Exists(path) ? RunLock.ReadHolder(path) : null;
        return Task.FromResult(holder is null ? null : ToHolder(holder, RunLock.IsStale(holder)));
    }

    public Task RequestAsync(
        string cluster,
        RunRequest request,
        string value,
        CancellationToken cancellationToken = default
    )
    {
        var path = RequestPath(cluster, request);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, value);
        return Task.CompletedTask;
    }

    public Task<string?> ReadRequestAsync(
        string cluster,
        RunRequest request,
        CancellationToken cancellationToken = default
    )
    {
        var path = RequestPath(cluster, request);
        try
        {
            return Task.FromResult<string?>(File.Exists(path) ? File.ReadAllText(path).Trim() : null);
        }
        catch (IOException)
        {
            // Being written this instant: read at the next poll.
            return Task.FromResult<string?>(null);
        }
    }

    public Task ClearRequestAsync(string cluster, RunRequest request, CancellationToken cancellationToken = default)
    {
        try
        {
            File.Delete(RequestPath(cluster, request));
        }
        catch (IOException)
        {
            // A marker that cannot be removed is reported when it is next read.
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string RequestPath(string cluster, RunRequest request)
    {
        var state = new StateDirectory(Root, cluster);
        return request switch
        {
            RunRequest.Promote => state.PromotePath,
            RunRequest.Pause => state.PauseRequestPath,
            RunRequest.Continue => state.ContinueRequestPath,
            _ => state.RollbackRequestPath,
        };
    }

    private static RunHolder ToHolder(RunLock.Holder holder, bool stale) =>
        new(holder.User ?? "?", holder.Host, holder.Pid, holder.RunId, holder.Since) { Stale = stale };

    private sealed class FileClaim(RunLock runLock, Journal journal) : IRunClaim
    {
        public IJournalWriter Journal => journal;

        public CancellationToken Lost => CancellationToken.None;

        public string? LostReason => null;

        public ValueTask DisposeAsync()
        {
            journal.Dispose();
            runLock.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
