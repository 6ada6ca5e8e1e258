using System.Collections.Concurrent;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The live side of one destination (configuration stays in <see cref="DestinationOptions"/>):
/// admin state, weight, health, and every open TCP session and in-flight HTTP request with a way
/// to end it.
/// </summary>
public sealed class DestinationRuntime(string cluster, DestinationOptions options)
{
    /// <summary>
    /// Open sessions by id (the oldest has the smallest); an evicted one until it has closed. Every HTTP request is
    /// added and removed, so the map has many lock stripes: with one per core (the default) requests queued on them.
    /// </summary>
    private readonly ConcurrentDictionary<long, Session> _live = new(concurrencyLevel: 64, capacity: 1024);
    private long _next;
    private long _total;
    private long _errors;
    private long _bytesToDestination;
    private long _bytesToClients;

    public string Cluster { get; } = cluster;

    public DestinationOptions Options { get; } = options;

    public string Name => Options.Name;

    /// <summary>Where its HTTP requests go (<c>http://host:port/</c>, IPv6 bracketed); null with no HTTP port</summary>
    public string? HttpPrefix { get; } =
        options.HttpPort is { } port ? new UriBuilder(Uri.UriSchemeHttp, options.Host, port).Uri.AbsoluteUri : null;

    public volatile DestinationAdminState State;

    public volatile int Weight = options.Weight;

    public volatile bool Healthy = true;

    /// <summary>Sessions open now, those being ended by an eviction included until they are closed.</summary>
    public int Live => _live.Count;

    public long Total => Interlocked.Read(ref _total);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Takes new traffic: ready, healthy, and a weight above zero.</summary>
    public bool Available => State == DestinationAdminState.Ready && Healthy && Weight > 0;

    /// <summary>Registers a live session or request; disposing the handle ends the registration.</summary>
    public IDisposable Track(Action abort)
    {
        var id = Interlocked.Increment(ref _next);
        _live[id] = new Session(abort);
        Interlocked.Increment(ref _total);
        return new Registration(this, id);
    }

    public void CountError() => Interlocked.Increment(ref _errors);

    /// <summary>Bytes clients sent through to this destination (request bodies, TCP and WebSocket data).</summary>
    public long BytesToDestination => Interlocked.Read(ref _bytesToDestination);

    /// <summary>Bytes this destination sent back to clients (response bodies, TCP and WebSocket data).</summary>
    public long BytesToClients => Interlocked.Read(ref _bytesToClients);

    public void CountBytes(long toDestination, long toClients)
    {
        if (toDestination > 0)
        {
            Interlocked.Add(ref _bytesToDestination, toDestination);
        }

        if (toClients > 0)
        {
            Interlocked.Add(ref _bytesToClients, toClients);
        }
    }

    /// <summary>
    /// Ends up to <paramref name="max"/> live sessions, oldest first; a session already being ended is not counted
    /// again. Each stays among the live ones until it has closed, so a drain that waits for zero waits for the
    /// connections themselves.
    /// </summary>
    public int Evict(int max)
    {
        var ended = 0;
        foreach (var (_, session) in _live.Where(p => !p.Value.Evicted).OrderBy(p => p.Key).Take(max))
        {
            if (session.End())
            {
                ended++;
            }
        }

        return ended;
    }

    private sealed class Session(Action abort)
    {
        private int _evicted;

        public bool Evicted => Volatile.Read(ref _evicted) != 0;

        /// <summary>Ends the session once; false when it was being ended already.</summary>
        public bool End()
        {
            if (Interlocked.Exchange(ref _evicted, 1) != 0)
            {
                return false;
            }

            abort();
            return true;
        }
    }

    private sealed class Registration(DestinationRuntime owner, long id) : IDisposable
    {
        public void Dispose() => owner._live.TryRemove(id, out _);
    }
}
