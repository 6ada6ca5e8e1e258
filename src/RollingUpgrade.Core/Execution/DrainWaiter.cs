using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Waits until a drained node has no live connections: every load balancer's count and the
/// node's own session count at zero, several readings in a row. At the deadline the plan's
/// policy applies: fail, evict at a paced rate, or go on and stop the node.
/// </summary>
internal static class DrainWaiter
{
    private static readonly TimeSpan NodeEvictionSettle = TimeSpan.FromSeconds(2);

    public static async Task WaitAsync(
        Step step,
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        var drain = context.Plan.Strategy.Drain;
        var time = context.Time;
        var deadline = context.StepStartedAt + drain.Timeout;
        var zeros = 0;
        var evicting = false;
        var endingBeforeStop = false;
        var eviction = new Eviction();
        long last = -1;
        var evictedSince = DateTimeOffset.MinValue;
        var balancerDraining = false;
        double evictionCredit = 0;
        var samples = new DrainSamples(context, step, node);
        var pace = new EvictionPace(context, step, node);
        var propagation = new DrainPropagation(
            context,
            step,
            node,
            context.DrainedAt.TryGetValue(node.Name, out var drainedAt) ? drainedAt : context.StepStartedAt
        );
        // The cluster is read for the takeover check only when the node holds something an eviction may end.
        var takeoverWanted = drain.WaitTakeover > TimeSpan.Zero && drain.OnTimeout != DrainTimeoutPolicy.Fail;
        TakeoverCheck? takeover = null;
        while (true)
        {
            // The load balancers are read on every poll; the node's own count (a slower call) only
            // once they read zero, to confirm that nothing reached the node some other way.
            var (fromBalancers, uncounted, anyCounts, back, perBalancer, sessionsTotal) = await ReadBalancersAsync(
                    context,
                    node,
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (back.Count > 0)
            {
                // A balancer that restarted or reloaded without its state sends new sessions to the node again:
                // draining it there again now, not at the stop, keeps evicted clients from coming back to it.
                await DrainAgainAsync(step, context, node, back, cancellationToken).ConfigureAwait(false);
                zeros = 0;
                propagation = new DrainPropagation(context, step, node, time.GetUtcNow());
            }
            else
            {
                foreach (var (balancer, sessions) in sessionsTotal)
                {
                    propagation.Observe(balancer, sessions);
                }
            }

            long? fromNode =
                fromBalancers == 0 ? await ReadNodeAsync(context, node, cancellationToken).ConfigureAwait(false) : null;

            // A balancer that cannot count (it only says "draining") is a ceiling: the node's own
            // count decides when there is one; without it, the wait lasts until the balancer is done.
            // When nothing counts at all (no balancer counts connections and the node cannot count its
            // sessions), zero is never read: the drain lasts its timeout and on_timeout decides.
            // A balancer that said "draining" and then finished has told when it was done.
            balancerDraining |= uncounted;
            var nobodyCounts = fromNode is null && !anyCounts && !balancerDraining && fromBalancers == 0;
            var total = Math.Max(fromBalancers, fromNode ?? (uncounted || nobodyCounts ? 1 : 0));
            if (nobodyCounts && last == -1)
            {
                context.Emit(
                    RunEventTypes.Warning,
                    $"{node.Name}: no load balancer counts its connections and the node cannot count its sessions; "
                        + $"waiting the whole drain timeout ({DurationText.Format(drain.Timeout)}), then on_timeout "
                        + $"decides",
                    step
                );
            }
            Diagnostics.EngineLog.DrainReading(
                context.Log,
                node.Name,
                fromBalancers,
                fromNode?.ToString(CultureInfo.InvariantCulture) ?? "uncounted"
            );
            await samples
                .RecordAsync(
                    fromBalancers,
                    perBalancer,
                    fromNode,
                    eviction.Total,
                    evicting && !endingBeforeStop ? pace.Current : null,
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (total != last)
            {
                context.Emit(
                    RunEventTypes.Progress,
                    $"{node.Name}: {fromBalancers} connection(s) at the load balancers"
                        + $"{(uncounted ? " (and still draining where connections are not counted)" : string.Empty)}"
                        + $"{(fromNode is { } n ? $", {n} session(s) on the node" : string.Empty)}",
                    step,
                    new Dictionary<string, string> { ["connections"] = total.ToString(CultureInfo.InvariantCulture) }
                );
                last = total;
            }

            context.Waiting = new WaitStatus(
                $"{node.Name}'s live connections",
                $"{fromBalancers} at the load balancers"
                    + $"{(fromNode is { } onNode ? $", {onNode} session(s) on the node" : string.Empty)}"
                    + $"{(evicting ? $"; evicting {pace.Text}/s, {eviction.Total} so far" : string.Empty)}",
                evicting ? null : deadline,
                evicting ? null : ThenText(drain)
            );
            if (takeoverWanted && total > 0)
            {
                takeoverWanted = false;
                takeover = await TakeoverCheck
                    .BeginAsync(context, step, node, total, cancellationToken)
                    .ConfigureAwait(false);
            }

            zeros = total == 0 ? zeros + 1 : 0;
            if (zeros >= drain.ZeroReadings && propagation.Proven)
            {
                if (eviction.Total > 0)
                {
                    context.Emit(
                        RunEventTypes.Progress,
                        $"{node.Name}: drained after evicting {eviction.Describe()}",
                        step,
                        new Dictionary<string, string>
                        {
                            ["evicted_by_node"] = eviction.ByNode.ToString(CultureInfo.InvariantCulture),
                            ["evicted_by_load_balancers"] = eviction.ByBalancers.ToString(CultureInfo.InvariantCulture),
                        }
                    );
                    if (takeover is not null)
                    {
                        await takeover.VerifyAsync(eviction.Sessions, cancellationToken).ConfigureAwait(false);
                    }
                }

                return;
            }

            // What the node still holds once it has ended its sessions for on_timeout = "stop" (read a poll after).
            if (endingBeforeStop)
            {
                var left = fromNode ?? await ReadNodeAsync(context, node, cancellationToken).ConfigureAwait(false);
                if (left is null or 0 || eviction.NodeCannotEvict)
                {
                    context.Emit(
                        RunEventTypes.Progress,
                        $"{node.Name}: ended {eviction.ByNode} session(s) through the node; stopping it"
                            + (fromBalancers > 0 ? $" with {fromBalancers} connection(s) left" : string.Empty),
                        step,
                        new Dictionary<string, string>
                        {
                            ["evicted_by_node"] = eviction.ByNode.ToString(CultureInfo.InvariantCulture),
                        }
                    );
                    if (takeover is not null && eviction.Sessions > 0)
                    {
                        await takeover.VerifyAsync(eviction.Sessions, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }
            }

            var now = time.GetUtcNow();
            if (!evicting && total > 0 && now >= deadline)
            {
                switch (drain.OnTimeout)
                {
                    case DrainTimeoutPolicy.Fail when nobodyCounts:
                        throw new StepFailedException(
                            $"nothing counts {node.Name}'s connections (no load balancer counts them and the node "
                                + $"cannot count its sessions: for MongooseIM, mod_admin_extra/service_admin_extra "
                                + $"not loaded) and on_timeout = \"fail\" after {DurationText.Format(drain.Timeout)}; "
                                + "make the node count its sessions, or set on_timeout = \"stop\" or \"evict\" to stop "
                                + "it after the timeout",
                            nodeTouched: false
                        );
                    case DrainTimeoutPolicy.Fail:
                        throw new StepFailedException(
                            $"{node.Name} still has {total} live connection(s) after "
                                + $"{DurationText.Format(drain.Timeout)} (on_timeout = \"fail\")",
                            nodeTouched: false
                        );
                    case DrainTimeoutPolicy.Stop:
                        // The node ends its sessions itself first, when it can, so that a request in flight is
                        // answered or cleanly refused rather than cut by the stop.
                        var held =
                            fromNode ?? await ReadNodeAsync(context, node, cancellationToken).ConfigureAwait(false);
                        if (held > 0)
                        {
                            if (takeover is not null)
                            {
                                await takeover.EvictionStartsAsync(total, cancellationToken).ConfigureAwait(false);
                            }

                            var budget = (int)Math.Max(1, pace.Ceiling * drain.PollInterval.TotalSeconds);
                            await EvictAsync(context, node, budget, 0, eviction, cancellationToken)
                                .ConfigureAwait(false);
                        }

                        if (eviction.ByNode == 0)
                        {
                            context.Emit(
                                RunEventTypes.Warning,
                                $"{node.Name} still has {total} live connection(s) after "
                                    + $"{DurationText.Format(drain.Timeout)}; stopping it anyway "
                                    + "(on_timeout = \"stop\")",
                                step
                            );
                            return;
                        }

                        endingBeforeStop = true;
                        evicting = true;
                        evictedSince = now;
                        evictionCredit = 0;
                        context.Emit(
                            RunEventTypes.Warning,
                            $"{node.Name} still has {total} live connection(s) after "
                                + $"{DurationText.Format(drain.Timeout)} (on_timeout = \"stop\"); ending its {held} "
                                + $"session(s) through the node at up to {pace.CeilingText}/s, then stopping it",
                            step
                        );
                        break;
                    case DrainTimeoutPolicy when nobodyCounts:
                        // Nothing counts, so nothing can be paced or seen to end: the timeout was the drain.
                        context.Emit(
                            RunEventTypes.Warning,
                            $"{node.Name}: drain timeout of {DurationText.Format(drain.Timeout)} reached with nothing "
                                + $"counting its connections; stopping it (sessions left, if any, end with it)",
                            step
                        );
                        return;
                    default:
                        evicting = true;
                        evictedSince = now;
                        evictionCredit = 1;
                        // The node's own count bounds what can come back as sessions elsewhere: the balancers also
                        // carry connections that are not sessions (an HTTP stream between requests).
                        eviction.NodeSessionsAtStart = await ReadNodeAsync(context, node, cancellationToken)
                            .ConfigureAwait(false);
                        context.Emit(
                            RunEventTypes.Warning,
                            $"{node.Name} still has {total} live connection(s) after "
                                + $"{DurationText.Format(drain.Timeout)}; evicting {pace.Text}/s"
                                + (drain.AdaptivePace ? $" to start (auto, up to {pace.CeilingText}/s)" : string.Empty),
                            step
                        );
                        if (takeover is not null)
                        {
                            await takeover.EvictionStartsAsync(total, cancellationToken).ConfigureAwait(false);
                        }

                        break;
                }
            }

            if (evicting && fromBalancers == 0 && fromNode > 0 && eviction.NodeCannotEvict)
            {
                // What is left did not come through a load balancer, so it cannot be evicted there; stopping the node
                // ends it.
                context.Emit(
                    RunEventTypes.Warning,
                    $"{node.Name} still has {fromNode} session(s) that no load balancer holds; stopping the node "
                        + $"will end them",
                    step
                );
                return;
            }

            if (evicting && total > 0)
            {
                // The pace is sessions per second of real time, whatever each poll costs.
                var rate = endingBeforeStop ? pace.Ceiling : pace.Current;
                evictionCredit += (now - evictedSince).TotalSeconds * rate;
                evictedSince = now;
                var budget = (int)Math.Floor(evictionCredit);
                if (budget > 0)
                {
                    await EvictAsync(
                            context,
                            node,
                            budget,
                            endingBeforeStop ? 0 : fromBalancers,
                            eviction,
                            cancellationToken
                        )
                        .ConfigureAwait(false);
                    evictionCredit -= budget;
                }

                if (!endingBeforeStop)
                {
                    await pace.AdjustAsync(takeover, eviction.Sessions, cancellationToken).ConfigureAwait(false);
                }
            }

            await Task.Delay(drain.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string ThenText(DrainSpec drain) =>
        drain.OnTimeout switch
        {
            DrainTimeoutPolicy.Fail => "the step fails",
            DrainTimeoutPolicy.Stop => $"its sessions are ended through the node (up to {drain.MaxEvictionRate}/s), "
                + "then it is stopped",
            _ when drain.AdaptivePace => $"evicting at an adaptive pace (up to {drain.MaxEvictionRate}/s)",
            _ => $"evicting {drain.EvictionRate}/s",
        };

    /// <summary>
    /// The node ends its own sessions when the product can (the client gets a stream error and a
    /// clean close); the load balancers cut only what the node does not hold (or everything, for
    /// products that cannot), which is a bare TCP close.
    /// </summary>
    private static async Task EvictAsync(
        RunContext context,
        NodeSpec node,
        int budget,
        long fromBalancers,
        Eviction eviction,
        CancellationToken cancellationToken
    )
    {
        long byNode = 0;
        if (!eviction.NodeCannotEvict)
        {
            var ended = await context
                .Transient.ExecuteAsync(
                    async ct => await context.Product.EvictSessionsAsync(node, budget, ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
            eviction.NodeCannotEvict = ended is null;
            byNode = ended ?? 0;
            eviction.ByNode += byNode;
        }

        var now = context.Time.GetUtcNow();
        if (byNode > 0)
        {
            eviction.LastByNodeAt = now;
            return;
        }

        // Sessions the node just ended take a moment to close at the balancers; cut only what is
        // still there a while after the node had nothing left to end.
        if (fromBalancers == 0 || now - eviction.LastByNodeAt < NodeEvictionSettle)
        {
            return;
        }

        foreach (var lb in context.LoadBalancers)
        {
            eviction.ByBalancers += await context
                .Transient.ExecuteAsync(
                    async ct => await lb.EvictAsync(node, budget, ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
    }

    private sealed class Eviction
    {
        public long ByNode { get; set; }

        public long ByBalancers { get; set; }

        public bool NodeCannotEvict { get; set; }

        public DateTimeOffset LastByNodeAt { get; set; } = DateTimeOffset.MinValue;

        public long Total => ByNode + ByBalancers;

        /// <summary>The node's own session count when the eviction began; null when it cannot count them.</summary>
        public long? NodeSessionsAtStart { get; set; }

        /// <summary>
        /// What the takeover check expects back: the sessions the node ended when it ended any (what the balancers
        /// cut after it, such as idle HTTP keep-alive connections, are not sessions the node counts), otherwise
        /// the connections the balancers cut, but no more than the sessions the node held when the eviction began.
        /// </summary>
        public long Sessions =>
            ByNode > 0 ? ByNode
            : NodeSessionsAtStart is { } held ? Math.Min(ByBalancers, held)
            : ByBalancers;

        public string Describe() =>
            (ByNode, ByBalancers) switch
            {
                (> 0, 0) => $"{ByNode} session(s) through the node (clean stream close)",
                (0, > 0) => $"{ByBalancers} connection(s) at the load balancers",
                _ => $"{ByNode} session(s) through the node and {ByBalancers} connection(s) at the load balancers",
            };
    }

    /// <summary>
    /// Drains the node again in the balancers that have it back in rotation (they lost the drain), saying so.
    /// </summary>
    public static async Task DrainAgainAsync(
        Step step,
        RunContext context,
        NodeSpec node,
        IReadOnlyList<ILoadBalancer> back,
        CancellationToken cancellationToken
    )
    {
        context.Emit(
            RunEventTypes.Warning,
            $"{node.Name} is back in rotation in {string.Join(", ", back.Select(l => l.Name))} (the load balancer lost "
                + "the drain: restarted or reloaded without its state); draining it there again and waiting for its "
                + "connections",
            step
        );
        foreach (var lb in back)
        {
            await context
                .Transient.ExecuteAsync(
                    async ct => await lb.SetStateAsync(node, ServerAdminState.Drain, ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Connections the balancers count, whether one that cannot count still says draining, and the balancers that
    /// have the node in rotation again.
    /// </summary>
    private static async Task<(
        long Counted,
        bool Uncounted,
        bool AnyCounts,
        IReadOnlyList<ILoadBalancer> Back,
        IReadOnlyDictionary<string, long> PerBalancer,
        IReadOnlyDictionary<string, long?> SessionsTotal
    )> ReadBalancersAsync(RunContext context, NodeSpec node, CancellationToken cancellationToken)
    {
        long counted = 0;
        var perBalancer = new Dictionary<string, long>(StringComparer.Ordinal);
        var sessionsTotal = new Dictionary<string, long?>(StringComparer.Ordinal);
        var uncounted = false;
        var anyCounts = false;
        var back = new List<ILoadBalancer>();
        foreach (var lb in context.LoadBalancers)
        {
            var states = await context
                .Transient.ExecuteAsync(
                    async ct => await lb.ReadAsync([node], ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
            var here = states.Where(s => s.ConnectionsCounted).Sum(s => s.LiveConnections);
            counted += here;
            if (states.Any(s => s.ConnectionsCounted))
            {
                perBalancer[lb.Name] = here;
            }

            uncounted |= states.Any(s => !s.ConnectionsCounted && s.LiveConnections > 0);
            anyCounts |= states.Any(s => s.ConnectionsCounted);
            if (states.Any(s => s.Admin == ServerAdminState.Ready))
            {
                back.Add(lb);
            }

            sessionsTotal[lb.Name] = states.All(s => s.SessionsTotal is not null)
                ? states.Sum(s => s.SessionsTotal ?? 0)
                : null;
        }

        return (counted, uncounted, anyCounts, back, perBalancer, sessionsTotal);
    }

    private static async Task<long?> ReadNodeAsync(
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    ) =>
        await context
            .Transient.ExecuteAsync(
                async ct => await context.Product.SessionCountAsync(node, ct).ConfigureAwait(false),
                cancellationToken
            )
            .ConfigureAwait(false);
}
