using System.Globalization;
using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.HAProxy;

public sealed partial class HAProxyLoadBalancer
{
    public async Task SetTrafficShareAsync(
        IReadOnlyList<NodeSpec> blue,
        IReadOnlyList<NodeSpec> green,
        int greenPercent,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(blue);
        ArgumentNullException.ThrowIfNull(green);
        var (blueWeight, greenWeight) = TrafficWeights.PerServer(blue.Count, green.Count, greenPercent);
        var wanted = blue.Select(n => (Node: n, Weight: blueWeight))
            .Concat(green.Select(n => (Node: n, Weight: greenWeight)))
            .ToList();
        var snapshots = await SnapshotAllAsync(cancellationToken).ConfigureAwait(false);
        var changed = new List<(HAProxyRuntimeClient Client, string Backend, string Server, long Before)>();
        try
        {
            foreach (var snapshot in snapshots)
            {
                foreach (var (node, weight) in wanted)
                {
                    foreach (var (backend, server) in Servers(snapshot, node))
                    {
                        var before = snapshot.Stat.Server(backend, server)!.Number("uweight");
                        await snapshot
                            .Client.ExecuteMutationAsync(
                                $"set server {backend}/{server} weight {weight.ToString(CultureInfo.InvariantCulture)}",
                                cancellationToken
                            )
                            .ConfigureAwait(false);
                        changed.Add((snapshot.Client, backend, server, before));
                    }
                }
            }

            foreach (var snapshot in await SnapshotAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var (node, weight) in wanted)
                {
                    foreach (var (backend, server) in Servers(snapshot, node))
                    {
                        var now = snapshot.Stat.Server(backend, server)!.Number("uweight");
                        if (now != weight)
                        {
                            throw new UnexpectedAnswerException(
                                $"{snapshot.Client.Endpoint}: {backend}/{server} reads back weight {now}, not {weight}"
                            );
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is HAProxyCommandException or TransientException or UnexpectedAnswerException)
        {
            var failures = new List<string>();
            foreach (var (client, backend, server, before) in changed)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(client.Timeout);
                    await client
                        .ExecuteMutationAsync(
                            $"set server {backend}/{server} weight {before.ToString(CultureInfo.InvariantCulture)}",
                            timeout.Token
                        )
                        .ConfigureAwait(false);
                }
                catch (Exception undo) when (undo is HAProxyCommandException or TransientException)
                {
                    failures.Add($"{client.Endpoint} {backend}/{server}: {undo.Message}");
                }
            }

            var restored =
                failures.Count == 0
                    ? "weights already changed were put back"
                    : $"putting weights back also failed ({string.Join("; ", failures)}): check them by hand";
            throw new UnexpectedAnswerException(
                $"{Name}: moving {greenPercent}% of traffic to the new cluster failed: {e.Message}; {restored}"
            );
        }
    }

    /// <summary>
    /// Ends up to <paramref name="maxSessions"/> streams on the node's servers one by one
    /// (<c>show sess</c>, <c>shutdown session</c>), so eviction can be paced.
    /// </summary>
    public async Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        long ended = 0;
        foreach (var snapshot in await SnapshotAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var sessions = await snapshot.Client.ExecuteAsync("show sess", cancellationToken).ConfigureAwait(false);
            foreach (var (backend, server) in Servers(snapshot, node))
            {
                foreach (var id in SessionList.For(sessions, backend, server))
                {
                    if (ended >= maxSessions)
                    {
                        return ended;
                    }

                    var reply = await snapshot
                        .Client.ExecuteAsync($"shutdown session {id}", cancellationToken)
                        .ConfigureAwait(false);
                    if (reply.Trim().Length == 0)
                    {
                        ended++;
                    }
                }
            }
        }

        return ended;
    }

    /// <summary>Both views of one instance, taken together.</summary>
    private sealed record Snapshot(HAProxyRuntimeClient Client, StatTable Stat, IReadOnlyList<ServerStateLine> States)
    {
        public ServerStateLine? State(string backend, string server) =>
            States.FirstOrDefault(s => s.Backend == backend && s.Server == server);
    }

    private async Task<List<Snapshot>> SnapshotAllAsync(CancellationToken cancellationToken)
    {
        var result = new List<Snapshot>();
        foreach (var client in Instances)
        {
            var stat = StatTable.Parse(await client.ExecuteAsync("show stat", cancellationToken).ConfigureAwait(false));
            var states = ServerStateLine.Parse(
                await client.ExecuteAsync("show servers state", cancellationToken).ConfigureAwait(false)
            );
            result.Add(new Snapshot(client, stat, states));
        }

        return result;
    }

    /// <summary>
    /// The node's server in every configured backend of one instance. A backend without it is an error, not
    /// a server to skip: traffic there would never drain.
    /// </summary>
    private IEnumerable<(string Backend, string Server)> Servers(Snapshot snapshot, NodeSpec node)
    {
        foreach (var backend in _settings.Backends)
        {
            var server = node.IdIn(Name, backend);
            if (snapshot.Stat.Server(backend, server) is null)
            {
                throw new UnexpectedAnswerException(
                    $"{Name}: HAProxy at {snapshot.Client.Endpoint} has no server '{server}' (node {node.Name}) in "
                        + $"backend '{backend}'; every node must be in every backend the plan names. Correct lb_ids "
                        + $"(a table of backend = server id where names differ) or the HAProxy config; "
                        + "`rollingupgrade validate` checks it"
                );
            }

            yield return (backend, server);
        }
    }
}
