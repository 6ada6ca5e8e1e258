using System.Globalization;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// The counts a drain wait reads, journalled as <c>sample</c> records for the run's report: the draining node's
/// connections at the balancers, its own sessions, what was evicted and the eviction's pace, whenever they change
/// (and every few seconds while they do not); every few seconds also the other nodes' connections (one extra read
/// per balancer, best effort: a failed read is left out of the sample, never fails the step). Past
/// <see cref="MostOthersRecorded"/> other nodes, a sample names only that many (the busiest at the first reading of
/// the drain, then those whose connections changed the most) with the others' total, so that the journal grows
/// with the nodes, not with their square (every node listed in every drain: about 30 KiB a drain at 1000 nodes).
/// </summary>
internal sealed class DrainSamples(RunContext context, Step step, NodeSpec node)
{
    /// <summary>At most this many other nodes are recorded one by one in a sample.</summary>
    public const int MostOthersRecorded = 50;

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    private Dictionary<string, long>? _othersBefore;

    private string? _last;
    private DateTimeOffset _lastAt = DateTimeOffset.MinValue;
    private DateTimeOffset _othersAt = DateTimeOffset.MinValue;

    public async Task RecordAsync(
        long fromBalancers,
        IReadOnlyDictionary<string, long> perBalancer,
        long? fromNode,
        long evicted,
        double? pace,
        CancellationToken cancellationToken
    )
    {
        var now = context.Time.GetUtcNow();
        var data = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["node"] = node.Name,
            ["connections"] = Text(fromBalancers),
            ["evicted"] = Text(evicted),
        };
        if (fromNode is { } sessions)
        {
            data["sessions"] = Text(sessions);
        }

        if (pace is { } evicting)
        {
            data["pace"] = evicting.ToString("0.#", CultureInfo.InvariantCulture);
        }

        foreach (var (lb, count) in perBalancer)
        {
            data[$"{node.Name}@{lb}"] = Text(count);
        }

        var key = string.Join(';', data.Select(p => $"{p.Key}={p.Value}"));
        if (key == _last && now - _lastAt < Every)
        {
            return;
        }

        if (now - _othersAt >= Every)
        {
            _othersAt = now;
            foreach (var (where, count) in Recorded(await OthersAsync(cancellationToken).ConfigureAwait(false)))
            {
                data[where] = Text(count);
            }
        }

        _last = key;
        _lastAt = now;
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.Sample,
                Phase = context.Phase.Text(),
                Step = step.Number,
                Data = data,
            }
        );
        context.Emit(Events.RunEventTypes.Sample, $"{node.Name}: {fromBalancers} connection(s)", step, data);
    }

    /// <summary>
    /// The live connections of every other node: per balancer (<c>NODE@LB</c>) and summed over the balancers that
    /// count them (<c>c:NODE</c>).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, long>> OthersAsync(CancellationToken cancellationToken)
    {
        var others = context.Blue.Concat(context.Green).Where(n => n.Name != node.Name).ToList();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (others.Count == 0)
        {
            return counts;
        }

        foreach (var lb in context.LoadBalancers)
        {
            IReadOnlyList<ServerState> states;
            try
            {
                states = await lb.ReadAsync(others, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Diagnostics.EngineLog.SampleFailed(context.Log, lb.Name, e.Message);
                continue;
            }

            foreach (var state in states.Where(s => s.ConnectionsCounted))
            {
                counts["c:" + state.Node] = counts.GetValueOrDefault("c:" + state.Node) + state.LiveConnections;
                counts[$"{state.Node}@{lb.Name}"] = state.LiveConnections;
            }
        }

        return counts;
    }

    /// <summary>
    /// What a sample records of the other nodes' counts: all of them up to <see cref="MostOthersRecorded"/> nodes;
    /// past that, the nodes chosen as the class says, and <c>others_nodes</c> and <c>others_connections</c> (the
    /// total over every other node).
    /// </summary>
    private IReadOnlyDictionary<string, long> Recorded(IReadOnlyDictionary<string, long> counts)
    {
        var perNode = counts
            .Where(p => p.Key.StartsWith("c:", StringComparison.Ordinal))
            .ToDictionary(p => p.Key[2..], p => p.Value, StringComparer.Ordinal);
        var before = _othersBefore;
        _othersBefore = perNode;
        if (perNode.Count <= MostOthersRecorded)
        {
            return counts;
        }

        var named = MostChanged.Nodes(before, perNode, MostOthersRecorded);
        var recorded = counts
            .Where(p => named.Contains(p.Key.StartsWith("c:", StringComparison.Ordinal) ? p.Key[2..] : NodeOf(p.Key)))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        recorded["others_nodes"] = perNode.Count;
        recorded["others_connections"] = perNode.Values.Sum();
        return recorded;
    }

    /// <summary>The node of a <c>NODE@LB</c> key.</summary>
    private static string NodeOf(string key) => key[..Math.Max(0, key.LastIndexOf('@'))];

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
