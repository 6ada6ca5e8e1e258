using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class Executor
{
    /// <summary>
    /// Before a resumed run goes on, every load balancer is read for every node and put back where
    /// the journal says the run left it: a balancer that lost its state (the embedded proxy
    /// restarted, HAProxy reloaded without a state file, an HA peer replaced) has nodes the run
    /// drained back in rotation and weights reset. Drains and weights are restored, each one said.
    /// </summary>
    private async Task ReconcileAsync(
        IReadOnlyList<JournalRecord> records,
        IReadOnlyList<Step> forward,
        IReadOnlyList<Step> rollback
    )
    {
        var drained = new Dictionary<(string Node, string Lb), bool>();
        var weights = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (
            var record in records.Where(r =>
                r.Step is not null && r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified
            )
        )
        {
            var list = record.Phase == RunPhases.RollbackText ? rollback : forward;
            if (record.Step > list.Count || list[record.Step!.Value - 1] is not { } step || step.Id != record.StepId)
            {
                continue;
            }

            switch (step.Kind)
            {
                case StepKind.Drain when step.LoadBalancer is not null:
                    drained[(step.Node!, step.LoadBalancer)] = true;
                    break;
                case StepKind.Enable when step.LoadBalancer is not null:
                    foreach (var node in step.Nodes)
                    {
                        drained[(node, step.LoadBalancer)] = false;
                    }

                    break;
                case StepKind.RegisterGreen or StepKind.ShiftTraffic when step.LoadBalancer is not null:
                    weights[step.LoadBalancer] = step.GreenPercent ?? 0;
                    break;
            }
        }

        foreach (var (name, lbName) in drained.Where(d => d.Value).Select(d => d.Key))
        {
            await DrainAgainIfReadyAsync(
                    name,
                    lbName,
                    RunEventTypes.Warning,
                    $"{name} is in rotation in {lbName}, but the run had drained it (the load balancer lost its "
                        + "state); draining it again"
                )
                .ConfigureAwait(false);
        }

        // Version affinity held these nodes out of new sessions; a halt returned them, a resume holds them again
        // (not once a rollback has begun: going back, every old node takes sessions).
        if (!records.Any(r => r.Type == JournalTypes.RollbackStarted))
        {
            foreach (var (name, lbName) in HeldInJournal(records, forward))
            {
                await DrainAgainIfReadyAsync(
                        name,
                        lbName,
                        RunEventTypes.Progress,
                        $"version affinity: {name} takes no new sessions in {lbName} again (it keeps its own)"
                    )
                    .ConfigureAwait(false);
                context.Held.Add((name, lbName));
            }
        }

        foreach (var (lbName, percent) in weights)
        {
            var lb = context.LoadBalancer(lbName);
            var states = await lb.ReadAsync([.. context.Blue, .. context.Green], StopRequested).ConfigureAwait(false);
            if (states.All(s => s.TrafficPercent is null))
            {
                continue;
            }

            var green = context.Green.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            var share = states.Where(s => green.Contains(s.Node)).Sum(s => s.TrafficPercent ?? 0);
            if (Math.Abs(share - percent) > 1)
            {
                var read = share.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
                context.Emit(
                    RunEventTypes.Warning,
                    $"{lbName} sends {read}% to the new cluster, but the run had set {percent}% (the load "
                        + $"balancer lost its state); setting {percent}% again"
                );
                await lb.SetTrafficShareAsync(context.Blue, context.Green, percent, StopRequested)
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>Drains <paramref name="name"/> in <paramref name="lbName"/> again, saying why, if it is back.</summary>
    private async Task DrainAgainIfReadyAsync(string name, string lbName, string eventType, string why)
    {
        var lb = context.LoadBalancer(lbName);
        var node = context.Node(name);
        var states = await lb.ReadAsync([node], StopRequested).ConfigureAwait(false);
        if (states.Any(s => s.Admin == ServerAdminState.Ready))
        {
            context.Emit(eventType, why);
            await lb.SetStateAsync(node, ServerAdminState.Drain, StopRequested).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The nodes version affinity holds out of new sessions by the journal's account: named by a done affinity step,
    /// not drained or returned to rotation by a later one.
    /// </summary>
    private static HashSet<(string Node, string LoadBalancer)> HeldInJournal(
        IReadOnlyList<JournalRecord> records,
        IReadOnlyList<Step> forward
    )
    {
        var held = new HashSet<(string Node, string LoadBalancer)>();
        foreach (
            var record in records.Where(r =>
                r.Step is not null
                && r.Phase != RunPhases.RollbackText
                && r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified or JournalTypes.StepStarted
            )
        )
        {
            if (
                record.Step > forward.Count
                || forward[record.Step!.Value - 1] is not { } step
                || step.Id != record.StepId
            )
            {
                continue;
            }

            // An affinity step that began may have held some of its nodes before the process ended: they are held.
            if (step.Kind == StepKind.PreferUpgraded && step.LoadBalancer is not null)
            {
                held.UnionWith(step.Nodes.Select(n => (n, step.LoadBalancer)));
            }
            else if (
                record.Type != JournalTypes.StepStarted
                && step.Kind is StepKind.Drain or StepKind.Enable
                && step.LoadBalancer is not null
            )
            {
                held.ExceptWith(step.Nodes.Select(n => (n, step.LoadBalancer)));
            }
        }

        return held;
    }
}
