using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    private static async Task DrainAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        var lb = context.LoadBalancer(step.LoadBalancer!);
        var current = (await lb.ReadAsync([node], cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        var held = context.Held.Contains((node.Name, lb.Name));
        if (current?.Admin == ServerAdminState.Drain && !held)
        {
            context.Emit(RunEventTypes.Progress, $"{node.Name} is already drained in {lb.Name}", step);
            return;
        }

        // A node held by version affinity takes no new sessions already, but still serves its own: the capacity
        // rule is checked now, when it is about to stop serving them.
        if (step.Capacity is { } rule)
        {
            await CheckCapacityAsync(rule, context, node, cancellationToken).ConfigureAwait(false);
        }

        if (current?.Admin != ServerAdminState.Drain)
        {
            await lb.SetStateAsync(node, ServerAdminState.Drain, cancellationToken).ConfigureAwait(false);
        }

        context.Held.Remove((node.Name, lb.Name));
    }

    /// <summary>
    /// Version affinity: the nodes not yet upgraded take no new sessions in this balancer (a drain, which keeps
    /// their connections), once the upgraded nodes are ready and healthy there and the capacity rule holds with the
    /// held nodes still serving their own sessions. When either is not so, nothing changes and the run says why:
    /// the old nodes keep taking sessions, which is how a run without affinity goes.
    /// </summary>
    private static async Task PreferUpgradedAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var lb = context.LoadBalancer(step.LoadBalancer!);
        var pool = (step.Capacity?.Pool ?? [.. context.Blue.Select(n => n.Name)]).Select(context.Node).ToList();
        var old = step.Nodes.ToHashSet(StringComparer.Ordinal);
        var states = await lb.ReadAsync(pool, cancellationToken).ConfigureAwait(false);
        var receivers = pool.Where(n => !old.Contains(n.Name))
            .Where(n => states.Any(s => s.Node == n.Name) && states.Where(s => s.Node == n.Name).All(s => s.IsServing))
            .Select(n => n.Name)
            .ToList();
        var keeping = step
            .Nodes.Where(n =>
                context.Held.Contains((n, lb.Name))
                || states.Where(s => s.Node == n).All(s => s.Admin == ServerAdminState.Ready && s.Healthy)
            )
            .ToList();
        var required = step.Capacity?.Required ?? 1;
        string? refused = null;
        if (receivers.Count == 0)
        {
            refused = "no upgraded node is ready and healthy there";
        }
        else if (receivers.Count + keeping.Count < required)
        {
            var serving = receivers.Concat(keeping).ToList();
            refused =
                $"{serving.Count} node(s) would serve ({string.Join(", ", serving)}); the plan needs at least "
                + $"{required}";
        }

        if (refused is not null)
        {
            context.Emit(
                RunEventTypes.Warning,
                $"version affinity not applied in {lb.Name}: {refused}; the nodes not yet upgraded keep taking new "
                    + "sessions",
                step
            );
            return;
        }

        if (keeping.Count == 0)
        {
            context.Emit(
                RunEventTypes.Progress,
                $"{lb.Name}: none of {string.Join(", ", step.Nodes)} takes new sessions there; nothing to hold",
                step
            );
            return;
        }

        foreach (var name in keeping)
        {
            var node = context.Node(name);
            if (states.Where(s => s.Node == name).Any(s => s.Admin != ServerAdminState.Drain))
            {
                await lb.SetStateAsync(node, ServerAdminState.Drain, cancellationToken).ConfigureAwait(false);
            }

            context.Held.Add((name, lb.Name));
        }

        context.Emit(
            RunEventTypes.Progress,
            $"{lb.Name}: new sessions go to {string.Join(", ", receivers)}; {RollingStrategyPlanner.Held(keeping)}",
            step
        );
    }

    /// <summary>How long a drain waits for nodes in rotation that fail a health check to pass it again.</summary>
    private static readonly TimeSpan HealthGrace = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Refuses a drain that would leave fewer serving nodes than the plan's capacity rule, or no
    /// serving backend at all. Serving is read from every load balancer, not assumed. When the shortfall is nodes in
    /// rotation that fail a health check (a check that flaps under load), they are read again for up to 10 s first.
    /// </summary>
    private static async Task CheckCapacityAsync(
        CapacityRule rule,
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        var pool = rule.Pool.Select(context.Node).ToList();
        var required = rule.Required;
        var deadline = context.Time.GetUtcNow() + HealthGrace;
        var said = false;
        while (true)
        {
            var serving = pool.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            var failing = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var lb in context.LoadBalancers)
            {
                foreach (var state in await lb.ReadAsync(pool, cancellationToken).ConfigureAwait(false))
                {
                    if (!state.IsServing && !(state.Healthy && context.Held.Contains((state.Node, lb.Name))))
                    {
                        serving.Remove(state.Node);
                    }

                    if (
                        state.Admin == ServerAdminState.Ready
                        && !state.Healthy
                        && state.Node != node.Name
                        && !rule.Together.Contains(state.Node)
                    )
                    {
                        failing.Add(state.Node);
                    }
                }
            }

            serving.Remove(node.Name);
            serving.ExceptWith(rule.Together);
            if (serving.Count >= required)
            {
                return;
            }

            if (failing.Count == 0 || context.Time.GetUtcNow() >= deadline)
            {
                var left = serving.Count == 0 ? "no node" : string.Join(", ", serving.Order(StringComparer.Ordinal));
                var unwell =
                    failing.Count == 0
                        ? string.Empty
                        : $"; {string.Join(", ", failing)} in rotation but failing a health check for "
                            + $"{DurationText.Format(HealthGrace)}";
                var what = rule.Together.Count > 1 ? $"its batch ({string.Join(", ", rule.Together)})" : null;
                throw new StepFailedException(
                    $"draining {node.Name}{(what is null ? string.Empty : $" with {what}")} would leave "
                        + $"{serving.Count} serving node(s) ({left}){unwell}; the plan "
                        + $"needs at least {required}. Bring the other nodes back into rotation first",
                    nodeTouched: false
                );
            }

            if (!said)
            {
                context.Emit(
                    RunEventTypes.Progress,
                    $"{string.Join(", ", failing)} in rotation but failing a health check; waiting up to "
                        + $"{DurationText.Format(HealthGrace)} for it before draining {node.Name}"
                );
                said = true;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), context.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task EnableAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        await context
            .LoadBalancer(step.LoadBalancer!)
            .SetStateAsync(node, ServerAdminState.Ready, cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<bool> ServerStateIsAsync(
        Step step,
        RunContext context,
        ServerAdminState expected,
        CancellationToken cancellationToken
    )
    {
        var node = context.Node(step.Node!);
        var states = await context
            .LoadBalancer(step.LoadBalancer!)
            .ReadAsync([node], cancellationToken)
            .ConfigureAwait(false);
        return states.Count > 0 && states.All(s => s.Admin == expected);
    }

    /// <summary>
    /// Every server that is about to receive weight must be ready and healthy in
    /// <paramref name="lb"/>: one that is drained or in maintenance (left by an earlier run or
    /// started that way) is set ready, which waits for its health check; one that still is not
    /// both refuses the step before any weight moves.
    /// </summary>
    private static async Task EnsureReadyAndHealthyAsync(
        Step step,
        RunContext context,
        ILoadBalancer lb,
        IReadOnlyList<NodeSpec> receivers,
        CancellationToken cancellationToken
    )
    {
        var before = await lb.ReadAsync(receivers, cancellationToken).ConfigureAwait(false);
        foreach (var node in receivers)
        {
            var servers = before.Where(s => s.Node == node.Name).ToList();
            if (servers.Count == 0)
            {
                throw new StepFailedException(
                    $"{lb.Name} has no server for {node.Name}; no weight moves to it",
                    nodeTouched: false
                );
            }

            if (servers.FirstOrDefault(s => s.Admin != ServerAdminState.Ready || !s.Healthy) is { } unready)
            {
                // Setting ready waits (within the balancer's ready_timeout) for the health check to pass:
                // a node just started is often still marked down for a check or two.
                context.Emit(
                    RunEventTypes.Progress,
                    unready.Admin == ServerAdminState.Ready
                        ? $"{node.Name} is {Describe(unready)} in {lb.Name}; waiting for its health check before "
                            + "it takes weight"
                        : $"{node.Name} is {Describe(unready)} in {lb.Name}; setting it ready before it takes weight",
                    step
                );
                try
                {
                    await lb.SetStateAsync(node, ServerAdminState.Ready, cancellationToken).ConfigureAwait(false);
                }
                catch (UnexpectedAnswerException e)
                {
                    throw new StepFailedException($"no weight moved in {lb.Name}: {e.Message}", nodeTouched: false);
                }
            }
        }

        var after = await lb.ReadAsync(receivers, cancellationToken).ConfigureAwait(false);
        var refused = after.Where(s => s.Admin != ServerAdminState.Ready || !s.Healthy).ToList();
        if (refused.Count > 0 && step.Phase == RunPhase.Rollback && refused.Count < after.Count)
        {
            // Going back, traffic must leave the failing side even if one old node is unwell:
            // the healthy ones take it, and the operator is told which one was skipped.
            context.Emit(
                RunEventTypes.Warning,
                $"{lb.Name}: "
                    + string.Join(", ", refused.Select(s => $"{s.Node} is {Describe(s)}"))
                    + "; the others take the traffic",
                step
            );
            return;
        }

        if (refused.Count > 0)
        {
            throw new StepFailedException(
                $"no weight moved in {lb.Name}: "
                    + string.Join(", ", refused.Select(s => $"{s.Node} is {Describe(s)}"))
                    + "; a server takes weight only when it is ready and passes its health check",
                nodeTouched: false
            );
        }
    }

    private static string Describe(ServerState state) =>
        state.Admin switch
        {
            ServerAdminState.Ready when !state.Healthy => "ready but failing its health check",
            ServerAdminState.Ready => "ready",
            _ => state.Admin.ToString().ToLowerInvariant()
                + (state.Healthy ? string.Empty : " and failing its health check"),
        };

    private static async Task ShiftTrafficAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var lb = context.LoadBalancer(step.LoadBalancer!);
        var percent = step.GreenPercent ?? 0;
        if (step.Kind == StepKind.RegisterGreen)
        {
            // The error counters before any traffic moves: the first traffic step's gate compares with this.
            var before = await lb.ReadAsync(context.Blue.Concat(context.Green).ToList(), cancellationToken)
                .ConfigureAwait(false);
            context.Fact(
                $"lb_errors:{lb.Name}",
                before.Sum(s => s.Errors).ToString(System.Globalization.CultureInfo.InvariantCulture)
            );
        }

        // Weight moves only to servers that are ready and healthy in this balancer, read back first.
        IReadOnlyList<NodeSpec> receivers = [.. percent < 100 ? context.Blue : [], .. percent > 0 ? context.Green : []];
        await EnsureReadyAndHealthyAsync(step, context, lb, receivers, cancellationToken).ConfigureAwait(false);
        await lb.SetTrafficShareAsync(context.Blue, context.Green, percent, cancellationToken).ConfigureAwait(false);
        var states = await lb.ReadAsync(context.Blue.Concat(context.Green).ToList(), cancellationToken)
            .ConfigureAwait(false);
        var lost = states.Where(s =>
            receivers.Any(r => r.Name == s.Node) && !(s.Admin == ServerAdminState.Ready && s.Healthy)
        );
        if (step.Phase == RunPhase.Forward && lost.FirstOrDefault() is { } gone)
        {
            throw new StepFailedException(
                $"{lb.Name}: {gone.Node} is {Describe(gone)} after the weights were set; it cannot take its share"
            );
        }

        var greenNames = context.Green.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var greenShare = states.Where(s => greenNames.Contains(s.Node)).Sum(s => s.TrafficPercent ?? 0);
        if (states.Any(s => s.TrafficPercent is not null) && Math.Abs(greenShare - percent) > 1)
        {
            var read = greenShare.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
            throw new StepFailedException($"{lb.Name} reads back {read}% on the new cluster after setting {percent}%");
        }

        context.Emit(
            RunEventTypes.Progress,
            $"{lb.Name}: blue {100 - percent}% / green {percent}%",
            step,
            new Dictionary<string, string>
            {
                ["green_percent"] = percent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }
        );
    }
}
