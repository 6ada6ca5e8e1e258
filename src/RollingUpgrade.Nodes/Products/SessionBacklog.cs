namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// The sessions each node still holds, for an eviction that ends a share of them at every tick of a drain. A node's
/// sessions are listed once and ended from that listing, a share at a time and several at once; the node is listed
/// again only when the listing is used up or older than <see cref="ListingLifetime"/> (neither ejabberd nor
/// MongooseIM can list a page of one node's sessions: each listing is the whole cluster's). A session ended less than
/// <see cref="Closing"/> ago is not ended again when a new listing still shows it (its client may still be closing),
/// so no session is ended or counted twice. A node with 10,000 sessions evicted at 500/s is listed about twice,
/// instead of once every tick.
/// </summary>
internal sealed class SessionBacklog<TSession>(TimeProvider time, Func<TSession, string> key)
    where TSession : notnull
{
    public static readonly TimeSpan ListingLifetime = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan Closing = TimeSpan.FromSeconds(30);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, NodeBacklog> _nodes = new(
        StringComparer.Ordinal
    );

    /// <summary>
    /// Ends up to <paramref name="max"/> of the node's sessions, at most <paramref name="concurrency"/> at once.
    /// </summary>
    /// <param name="list">The node's sessions now; null when the node cannot list them.</param>
    /// <param name="end">Ends one session; false when it was gone already.</param>
    /// <returns>How many were ended; null when the node cannot list its sessions.</returns>
    public async Task<long?> EvictAsync(
        string node,
        int max,
        int concurrency,
        Func<CancellationToken, Task<IEnumerable<TSession>?>> list,
        Func<TSession, CancellationToken, Task<bool>> end,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(end);
        if (max <= 0)
        {
            return 0;
        }

        var backlog = _nodes.GetOrAdd(node, _ => new NodeBacklog());
        await backlog.Busy.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = time.GetUtcNow();
            if (backlog.Pending.Count == 0 || now - backlog.ListedAt >= ListingLifetime)
            {
                var listed = await list(cancellationToken).ConfigureAwait(false);
                if (listed is null)
                {
                    return null;
                }

                backlog.Relist(listed, key, now);
            }

            var share = backlog.Take(max);
            long ended = 0;
            await Parallel
                .ForEachAsync(
                    share,
                    new ParallelOptions
                    {
                        MaxDegreeOfParallelism = Math.Max(1, concurrency),
                        CancellationToken = cancellationToken,
                    },
                    async (session, ct) =>
                    {
                        var gone = await end(session, ct).ConfigureAwait(false);
                        backlog.MarkEnded(key(session), time.GetUtcNow());
                        if (gone)
                        {
                            Interlocked.Increment(ref ended);
                        }
                    }
                )
                .ConfigureAwait(false);
            return ended;
        }
        finally
        {
            backlog.Busy.Release();
        }
    }

    private sealed class NodeBacklog
    {
        private readonly Dictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

        /// <summary>One eviction of the node at a time (a batch's drains evict different nodes).</summary>
        public SemaphoreSlim Busy { get; } = new(1, 1);

        public Queue<TSession> Pending { get; } = new();

        public DateTimeOffset ListedAt { get; private set; } = DateTimeOffset.MinValue;

        public void Relist(IEnumerable<TSession> listed, Func<TSession, string> key, DateTimeOffset now)
        {
            lock (_ended)
            {
                foreach (var old in _ended.Where(e => now - e.Value >= Closing).Select(e => e.Key).ToList())
                {
                    _ended.Remove(old);
                }

                Pending.Clear();
                foreach (var session in listed)
                {
                    if (!_ended.ContainsKey(key(session)))
                    {
                        Pending.Enqueue(session);
                    }
                }
            }

            ListedAt = now;
        }

        public List<TSession> Take(int max)
        {
            var share = new List<TSession>(Math.Min(max, Pending.Count));
            while (share.Count < max && Pending.TryDequeue(out var session))
            {
                share.Add(session);
            }

            return share;
        }

        public void MarkEnded(string key, DateTimeOffset at)
        {
            lock (_ended)
            {
                _ended[key] = at;
            }
        }
    }
}
