using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>A load balancer that keeps admin state and weights per node and counts the node's live sessions.</summary>
public sealed class FakeLoadBalancer(string name, FakeWorld world) : ILoadBalancer
{
    public string Name { get; } = name;

    public Dictionary<string, ServerAdminState> States { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Percent { get; } = new(StringComparer.Ordinal);

    public long Errors { get; set; }

    public long Evicted { get; private set; }

    public List<string> Log { get; } = [];

    public int SetCalls { get; private set; }

    /// <summary>Servers that fail this balancer's health check although their node runs.</summary>
    public HashSet<string> Unhealthy { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When set, the balancer behaves like ELBv2: it cannot count connections, and a drained node
    /// stays "draining" (reported as 1, uncounted) for this long after the drain.
    /// </summary>
    public TimeSpan? UncountedDrainDelay { get; set; }

    /// <summary>
    /// When set, the balancer keeps sending a new short session to a drained node on every read for this long after
    /// the drain (persistence that outlives a drain); none after it.
    /// </summary>
    public TimeSpan? SendsAfterDrain { get; set; }

    /// <summary>
    /// Connections the balancer holds to a node that the node does not count as sessions (idle HTTP keep-alive
    /// connections): counted live here, cut by an eviction here, never back as sessions anywhere.
    /// </summary>
    public Dictionary<string, int> IdleConnections { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the balancer keeps a cumulative session count per server (HAProxy's stot).</summary>
    public bool CountsSessionsTotal { get; set; } = true;

    private readonly Dictionary<string, DateTimeOffset> _drainedAt = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<ServerState>> ReadAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        lock (world.Gate)
        {
            world.Settle();
            var now = world.Time.GetUtcNow();
            IReadOnlyList<ServerState> states = nodes
                .Select(
                    (n, i) =>
                    {
                        var node = world.Nodes[n.Name];
                        var admin = States.GetValueOrDefault(n.Name, ServerAdminState.Ready);
                        if (
                            SendsAfterDrain is { } sending
                            && admin != ServerAdminState.Ready
                            && node.Running
                            && _drainedAt.TryGetValue(n.Name, out var drained)
                            && now - drained < sending
                        )
                        {
                            node.SessionEnds.Add(now + TimeSpan.FromMilliseconds(300));
                            node.Arrivals++;
                        }

                        if (UncountedDrainDelay is { } delay)
                        {
                            var draining =
                                admin != ServerAdminState.Ready
                                && _drainedAt.TryGetValue(n.Name, out var at)
                                && now - at < delay;
                            return new ServerState(
                                Name,
                                n.Name,
                                admin,
                                node.Running,
                                draining ? 1 : 0,
                                null,
                                0,
                                ConnectionsCounted: false
                            );
                        }

                        return new ServerState(
                            Name,
                            n.Name,
                            admin,
                            node.Running && !Unhealthy.Contains(n.Name),
                            node.Running ? node.LiveSessions(now) + IdleConnections.GetValueOrDefault(n.Name) : 0,
                            Percent.TryGetValue(n.Name, out var p) ? p : null,
                            i == 0 ? Errors : 0,
                            SessionsTotal: CountsSessionsTotal ? node.Arrivals : null
                        );
                    }
                )
                .ToList();
            return Task.FromResult(states);
        }
    }

    public Task SetStateAsync(NodeSpec node, ServerAdminState state, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            SetCalls++;
            if (
                state != ServerAdminState.Ready
                && States.GetValueOrDefault(node.Name, ServerAdminState.Ready) == ServerAdminState.Ready
            )
            {
                _drainedAt[node.Name] = world.Time.GetUtcNow();
            }

            States[node.Name] = state;
            if (state == ServerAdminState.Ready)
            {
                world.OutOfRotation.Remove(node.Name);
            }
            else
            {
                world.OutOfRotation.Add(node.Name);
            }

            Log.Add($"{node.Name}={state}");
            return Task.CompletedTask;
        }
    }

    public Task SetTrafficShareAsync(
        IReadOnlyList<NodeSpec> blue,
        IReadOnlyList<NodeSpec> green,
        int greenPercent,
        CancellationToken cancellationToken
    )
    {
        lock (world.Gate)
        {
            SetCalls++;
            foreach (var n in blue)
            {
                Percent[n.Name] = (100 - greenPercent) / blue.Count;
            }

            foreach (var n in green)
            {
                Percent[n.Name] = greenPercent / green.Count;
            }

            // Integer division leaves a remainder; give it to the first node of each side so shares add up.
            Percent[blue[0].Name] += (100 - greenPercent) % blue.Count;
            Percent[green[0].Name] += greenPercent % green.Count;
            Log.Add($"green={greenPercent}");
            return Task.CompletedTask;
        }
    }

    public Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            var now = world.Time.GetUtcNow();
            var live = world.Nodes[node.Name].SessionEnds.Where(e => e > now).Take(maxSessions).ToList();
            world.Evicted(world.Nodes[node.Name], live);
            var idle = Math.Min(maxSessions - live.Count, IdleConnections.GetValueOrDefault(node.Name));
            IdleConnections[node.Name] = IdleConnections.GetValueOrDefault(node.Name) - idle;
            Evicted += idle;

            Evicted += live.Count;
            return Task.FromResult((long)live.Count + idle);
        }
    }
}
