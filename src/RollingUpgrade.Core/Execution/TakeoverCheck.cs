using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Proof that evicted clients landed elsewhere: the sessions the serving nodes hold are read when the drain begins
/// and when the eviction begins; after the eviction, the serving nodes must gain back at least
/// <c>takeover_percent</c> of what was evicted within <c>wait_takeover</c>, less the sessions the whole cluster was
/// losing anyway before the eviction (its normal churn, measured over the drain wait). The serving nodes are the
/// other nodes every balancer has in rotation; their sessions are each node's own count, or the balancers' live
/// connections for a product that cannot count them. A takeover that falls short fails the step before the node is
/// stopped (the run's rollback policy then applies, as for a drain that timed out).
/// </summary>
internal sealed class TakeoverCheck
{
    /// <summary>At most this many serving nodes are named in the takeover record and its failure message.</summary>
    private const int MostNodesNamed = 20;

    private readonly RunContext _context;
    private readonly Step _step;
    private readonly NodeSpec _node;
    private readonly IReadOnlyList<NodeSpec> _others;
    private Reading? _atDrain;
    private Reading? _atEviction;

    private TakeoverCheck(RunContext context, Step step, NodeSpec node, IReadOnlyList<NodeSpec> others)
    {
        _context = context;
        _step = step;
        _node = node;
        _others = others;
    }

    /// <summary>
    /// Reads the serving nodes as the drain wait begins, with <paramref name="held"/> on the drained node; null when
    /// no other node exists to take over.
    /// </summary>
    public static async Task<TakeoverCheck?> BeginAsync(
        RunContext context,
        Step step,
        NodeSpec node,
        long held,
        CancellationToken cancellationToken
    )
    {
        var others = context.Blue.Concat(context.Green).Where(n => n.Name != node.Name).ToList();
        if (others.Count == 0)
        {
            return null;
        }

        var check = new TakeoverCheck(context, step, node, others);
        check._atDrain = await check.TryReadAsync(held, cancellationToken).ConfigureAwait(false);
        return check;
    }

    /// <summary>
    /// Reads the serving nodes as the eviction begins (the level they grow from), with <paramref name="held"/> on the
    /// drained node.
    /// </summary>
    public async Task EvictionStartsAsync(long held, CancellationToken cancellationToken) =>
        _atEviction = await TryReadAsync(held, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// How the eviction goes so far: the sessions the serving nodes gained since it began, and the errors their
    /// balancers counted since; null when they cannot be read.
    /// </summary>
    public async Task<(long Back, long NewErrors)?> ProgressAsync(CancellationToken cancellationToken)
    {
        if (
            _atEviction is not { } before
            || await TryReadAsync(0, cancellationToken).ConfigureAwait(false) is not { } now
        )
        {
            return null;
        }

        return (now.Serving - before.Serving, now.Errors - before.Errors);
    }

    /// <summary>
    /// Waits until the serving nodes hold what they held when the eviction began plus the share of
    /// <paramref name="evicted"/> the plan asks for; fails the step when they do not within <c>wait_takeover</c>.
    /// </summary>
    public async Task VerifyAsync(long evicted, CancellationToken cancellationToken)
    {
        var drain = _context.Plan.Strategy.Drain;
        if (_atEviction is not { } before)
        {
            _context.Emit(
                RunEventTypes.Warning,
                $"{_node.Name}: the takeover of its {evicted} evicted session(s) is not verified: the serving nodes' "
                    + "sessions could not be read when the eviction began",
                _step
            );
            return;
        }

        var time = _context.Time;
        var startedAt = time.GetUtcNow();
        var deadline = startedAt + drain.WaitTakeover;
        var needed = (long)Math.Ceiling(evicted * drain.TakeoverPercent / 100.0);
        var churnPerSecond = ChurnPerSecond(before);
        long back = 0;
        Reading? last = null;
        string? lastError = null;
        while (true)
        {
            var now = time.GetUtcNow();
            var reading = await TryReadAsync(0, cancellationToken).ConfigureAwait(false);
            if (reading is { } r)
            {
                last = r;
                lastError = null;
                var churn = (long)Math.Floor(churnPerSecond * (now - before.At).TotalSeconds);
                back = Math.Min(evicted, Math.Max(0, r.Serving - before.Serving + churn));
                if (back >= needed)
                {
                    Report(evicted, back, now - startedAt, churn, before, r);
                    return;
                }

                _context.Waiting = new WaitStatus(
                    $"the evicted sessions of {_node.Name} to come back on the serving nodes",
                    $"{back} of {evicted} back (at least {needed} needed)",
                    deadline,
                    "the step fails"
                );
            }
            else
            {
                lastError = "the serving nodes' sessions could not be read";
            }

            if (now >= deadline)
            {
                var percent = evicted == 0 ? 100 : 100 * back / evicted;
                Journal(Data(evicted, back, now - startedAt, passed: false, before, last));
                throw new StepFailedException(
                    $"only {back} of the {evicted} session(s) evicted from {_node.Name} came back on the serving "
                        + $"nodes within {DurationText.Format(drain.WaitTakeover)} ({percent}%; takeover_percent is "
                        + $"{drain.TakeoverPercent}){(lastError is null ? string.Empty : $"; {lastError}")}"
                        + (
                            last is { } l
                                ? $"; they hold {PerNode(l, Named(before, l))}, held "
                                    + $"{PerNode(before, Named(before, l))} as it began"
                                : ""
                        )
                        + ". The clients did not reconnect, or reconnected where the load balancers do not send them; "
                        + $"{_node.Name} was not stopped",
                    nodeTouched: false
                );
            }

            await Task.Delay(drain.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sessions per second the whole cluster lost between the drain and the eviction (never negative).
    /// </summary>
    private double ChurnPerSecond(Reading atEviction)
    {
        if (_atDrain is not { } atDrain || atEviction.At <= atDrain.At)
        {
            return 0;
        }

        var lost = atDrain.Serving + atDrain.Drained - (atEviction.Serving + atEviction.Drained);
        return Math.Max(0, lost) / (atEviction.At - atDrain.At).TotalSeconds;
    }

    private void Report(long evicted, long back, TimeSpan took, long churn, Reading before, Reading now)
    {
        var data = Data(evicted, back, took, passed: true, before, now);
        Journal(data);
        var percent = evicted == 0 ? 100 : 100 * back / evicted;
        _context.Emit(
            RunEventTypes.Progress,
            $"{_node.Name}: {back} of {evicted} evicted session(s) re-established on the serving nodes in "
                + $"{DurationText.Format(Round(took))} ({percent}%"
                + $"{(churn > 0 ? $", counting {churn} lost to the cluster's normal churn" : string.Empty)})",
            _step,
            data
        );
    }

    private void Journal(Dictionary<string, string> data) =>
        _context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.Takeover,
                Phase = _context.Phase.Text(),
                Step = _step.Number,
                Data = data,
            }
        );

    /// <summary>
    /// What the takeover record says: the counts, and each serving node's sessions as the eviction began and at the
    /// last reading (<c>g1=4 g2=3</c>), so that a takeover that fell short shows where the clients are.
    /// </summary>
    private Dictionary<string, string> Data(
        long evicted,
        long back,
        TimeSpan took,
        bool passed,
        Reading before,
        Reading? now
    )
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["node"] = _node.Name,
            ["evicted"] = Text(evicted),
            ["reestablished"] = Text(back),
            ["not_back"] = Text(evicted - back),
            ["took_ms"] = Text((long)took.TotalMilliseconds),
            ["passed"] = passed ? "true" : "false",
        };
        var named = Named(before, now);
        data["serving_at_eviction"] = PerNode(before, named);
        if (now is { } n)
        {
            data["serving_now"] = PerNode(n, named);
        }

        return data;
    }

    /// <summary>
    /// The serving nodes named one by one: all of them up to <see cref="MostNodesNamed"/> (null), else those whose
    /// sessions changed the most between the two readings — a thousand nodes named twice would make every takeover
    /// record and message kilobytes long, and the nodes that gained the clients are the ones a reader looks for.
    /// </summary>
    private static HashSet<string>? Named(Reading before, Reading? now)
    {
        var after = now ?? before;
        if (before.PerNode.Count <= MostNodesNamed && after.PerNode.Count <= MostNodesNamed)
        {
            return null;
        }

        return MostChanged.Nodes(
            before.PerNode.ToDictionary(p => p.Node, p => p.Sessions, StringComparer.Ordinal),
            after.PerNode.ToDictionary(p => p.Node, p => p.Sessions, StringComparer.Ordinal),
            MostNodesNamed
        );
    }

    /// <summary>
    /// Sessions per serving node, as <c>g1=4 g2=3</c> (<c>none</c> when no node was serving); with
    /// <paramref name="named"/>, only those nodes and the others together (<c>g1=4 (and 998 other nodes holding
    /// 2100)</c>).
    /// </summary>
    private static string PerNode(Reading reading, HashSet<string>? named)
    {
        if (reading.PerNode.Count == 0)
        {
            return "none";
        }

        var listed = reading.PerNode.Where(p => named is null || named.Contains(p.Node)).ToList();
        var text = string.Join(' ', listed.Select(p => $"{p.Node}={Text(p.Sessions)}"));
        var others = reading.PerNode.Count - listed.Count;
        if (others == 0)
        {
            return text;
        }

        var held = Text(reading.PerNode.Where(p => !named!.Contains(p.Node)).Sum(p => p.Sessions));
        return listed.Count == 0
            ? $"{others} nodes holding {held}"
            : $"{text} (and {others} other node{(others == 1 ? "" : "s")} holding {held})";
    }

    private static TimeSpan Round(TimeSpan value) => TimeSpan.FromMilliseconds(Math.Round(value.TotalMilliseconds));

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The serving nodes' sessions, with what the drained node holds, or null when they cannot be read.
    /// </summary>
    private async Task<Reading?> TryReadAsync(long held, CancellationToken cancellationToken)
    {
        try
        {
            var (perNode, errors) = await ServingAsync(cancellationToken).ConfigureAwait(false);
            return new Reading(_context.Time.GetUtcNow(), perNode.Sum(p => p.Sessions), held, errors, perNode);
        }
        catch (Exception e) when (e is not OperationCanceledException and not SimulatedCrashException)
        {
            Diagnostics.EngineLog.SampleFailed(_context.Log, "the takeover check", e.Message);
            return null;
        }
    }

    /// <summary>
    /// The sessions on the other nodes every balancer has in rotation (each node's own count, or the balancers' live
    /// connections for a product that cannot count its sessions) and the errors the balancers counted for them.
    /// </summary>
    private async Task<(IReadOnlyList<(string Node, long Sessions)> PerNode, long Errors)> ServingAsync(
        CancellationToken cancellationToken
    )
    {
        var serving = _others.ToDictionary(n => n.Name, _ => true, StringComparer.Ordinal);
        var connections = _others.ToDictionary(n => n.Name, _ => (long?)null, StringComparer.Ordinal);
        long errors = 0;
        foreach (var lb in _context.LoadBalancers)
        {
            foreach (var state in await lb.ReadAsync(_others, cancellationToken).ConfigureAwait(false))
            {
                serving[state.Node] &= state.IsServing;
                errors += state.Errors;
                if (state.ConnectionsCounted)
                {
                    connections[state.Node] = (connections[state.Node] ?? 0) + state.LiveConnections;
                }
            }
        }

        Receivers = _others.Where(n => serving[n.Name]).ToList();
        var sessions = new List<(string Node, long Sessions)>();
        foreach (var n in Receivers)
        {
            sessions.Add(
                (
                    n.Name,
                    await _context.Product.SessionCountAsync(n, cancellationToken).ConfigureAwait(false)
                        ?? connections[n.Name]
                        ?? throw new UnexpectedAnswerException($"nothing counts {n.Name}'s sessions")
                )
            );
        }

        return (sessions, errors);
    }

    /// <summary>The nodes every balancer had in rotation at the last reading: where evicted clients go.</summary>
    public IReadOnlyList<NodeSpec> Receivers { get; private set; } = [];

    private readonly record struct Reading(
        DateTimeOffset At,
        long Serving,
        long Drained,
        long Errors,
        IReadOnlyList<(string Node, long Sessions)> PerNode
    );
}
