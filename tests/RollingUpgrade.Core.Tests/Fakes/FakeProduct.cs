using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Fakes;

public sealed class FakeProduct(FakeWorld world) : IProduct
{
    public List<string> Log { get; } = [];

    /// <summary>Whether the product ends sessions itself (as ejabberd's kick_session does).</summary>
    public bool CanEvict { get; set; }

    public long Evicted { get; private set; }

    public Task<long?> EvictSessionsAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            if (!CanEvict)
            {
                return Task.FromResult<long?>(null);
            }

            var n = world.Nodes[node.Name];
            var now = world.Time.GetUtcNow();
            var live = n.Running ? n.SessionEnds.Where(e => e > now).Take(maxSessions).ToList() : [];
            world.Evicted(n, live);

            Evicted += live.Count;
            Log.Add($"evict {node.Name} {live.Count}");
            return Task.FromResult<long?>(live.Count);
        }
    }

    public Task<NodeStatus> StatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            var n = world.Nodes[node.Name];
            return Task.FromResult(
                n.Running
                    ? new NodeStatus(NodeRunState.Running, n.RunningVersion, "started")
                    : new NodeStatus(NodeRunState.Stopped, null, "nodedown")
            );
        }
    }

    public Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            return Task.FromResult(world.MembershipSeenBy(world.Nodes[node.Name]));
        }
    }

    /// <summary>
    /// Whether the product can count a node's sessions (a generic product without a sessions command cannot).
    /// </summary>
    public bool CountsSessions { get; set; } = true;

    public Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            world.Settle();
            var n = world.Nodes[node.Name];
            if (n.SessionsAnswerGarbage)
            {
                throw new UnexpectedAnswerException($"the sessions command on {node.Name} answered '', not a number");
            }

            return Task.FromResult<long?>(
                !CountsSessions ? null
                : n.Running ? n.LiveSessions(world.Time.GetUtcNow())
                : 0
            );
        }
    }

    public Task StopAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        lock (world.Gate)
        {
            var n = world.Nodes[node.Name];
            n.Running = false;
            n.SessionEnds.Clear();
            Log.Add($"stop {node.Name}");
            return Task.CompletedTask;
        }
    }

    public async Task StartAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var n = world.Nodes[node.Name];
        lock (world.Gate)
        {
            Log.Add($"start {node.Name}");
        }

        if (n.StartTakes is { } takes)
        {
            await Task.Delay(takes, world.Time, cancellationToken);
        }

        if (n.FailStart)
        {
            throw new InvalidOperationException($"{node.Name} crashed on start");
        }

        if (n.HangStart)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        lock (world.Gate)
        {
            n.Running = true;
            n.Tables = n.TablesAfterStart ?? n.Tables;
            n.RunningVersion = n.StartsWithVersion ?? n.InstalledVersion;
            n.StartsWithVersion = null;
        }
    }

    public Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        world.Nodes[node.Name].Cluster = world.Nodes[seed.Name].Cluster;
        Log.Add($"join {node.Name} {seed.Name}");
        return Task.CompletedTask;
    }
}
