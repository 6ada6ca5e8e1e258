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
    /// Ends up to <paramref name="maxSessions"/> streams on the node's servers (<c>show sess</c>, <c>shutdown
    /// session</c>), so eviction can be paced. The session list is read line by line and no further than needed (an
    /// instance with 10,000 sessions lists megabytes), and the shutdowns are sent <see cref="ShutdownsPerLine"/> to a
    /// command line (HAProxy runs the commands of a line one after another and answers each; an empty answer is a
    /// session ended).
    /// </summary>
    public async Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        long ended = 0;
        foreach (var snapshot in await SnapshotAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var wanted = maxSessions - ended;
            if (wanted <= 0)
            {
                break;
            }

            var servers = Servers(snapshot, node).ToHashSet();
            var ids = new List<string>();
            await snapshot
                .Client.ReadLinesAsync(
                    "show sess",
                    line =>
                    {
                        if (
                            SessionList.TryParse(line, out var id, out var backend, out var server)
                            && servers.Contains((backend, server))
                        )
                        {
                            ids.Add(id);
                        }

                        return ids.Count < wanted;
                    },
                    cancellationToken
                )
                .ConfigureAwait(false);
            foreach (var chunk in ids.Chunk(ShutdownsPerLine))
            {
                var reply = await snapshot
                    .Client.ExecuteAsync(
                        string.Join("; ", chunk.Select(id => $"shutdown session {id}")),
                        cancellationToken
                    )
                    .ConfigureAwait(false);
                // Each refusal ("No such session (use 'show sess').": it ended by itself meanwhile) is one line.
                var refused = reply.Split('\n').Count(l => l.Trim().Length > 0);
                ended += Math.Max(0, chunk.Length - refused);
            }
        }

        return ended;
    }

    /// <summary>
    /// Shutdowns sent on one command line: "shutdown session 0x5592f9838640; " is 34 characters, and a command line
    /// must fit HAProxy's buffer (16 KiB unless tune.bufsize says otherwise).
    /// </summary>
    private const int ShutdownsPerLine = 100;

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
