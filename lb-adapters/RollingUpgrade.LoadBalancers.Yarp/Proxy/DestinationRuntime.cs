using System.Collections.Concurrent;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// The live side of one destination (configuration stays in <see cref="DestinationOptions"/>):
/// admin state, weight, health, and every open TCP session and in-flight HTTP request with a way
/// to end it.
/// </summary>
public sealed class DestinationRuntime(string cluster, DestinationOptions options)
{
    private readonly ConcurrentDictionary<long, Action> _live = new();
    private long _next;
    private long _total;
    private long _errors;
    private long _bytesToDestination;
    private long _bytesToClients;

    public string Cluster { get; } = cluster;

    public DestinationOptions Options { get; } = options;

    public string Name => Options.Name;

    public volatile DestinationAdminState State;

    public volatile int Weight = options.Weight;

    public volatile bool Healthy = true;

    public int Live => _live.Count;

    public long Total => Interlocked.Read(ref _total);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Takes new traffic: ready, healthy, and a weight above zero.</summary>
    public bool Available => State == DestinationAdminState.Ready && Healthy && Weight > 0;

    /// <summary>Registers a live session or request; disposing the handle ends the registration.</summary>
    public IDisposable Track(Action abort)
    {
        var id = Interlocked.Increment(ref _next);
        _live[id] = abort;
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

    /// <summary>Ends up to <paramref name="max"/> live sessions, oldest first.</summary>
    public int Evict(int max)
    {
        var ended = 0;
        foreach (var id in _live.Keys.Order().Take(max))
        {
            if (_live.TryRemove(id, out var abort))
            {
                abort();
                ended++;
            }
        }

        return ended;
    }

    private sealed class Registration(DestinationRuntime owner, long id) : IDisposable
    {
        public void Dispose() => owner._live.TryRemove(id, out _);
    }
}
