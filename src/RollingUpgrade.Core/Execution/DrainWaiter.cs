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
    public static async Task WaitAsync(Step step, RunContext context, NodeSpec node, CancellationToken cancellationToken)
    {
        var drain = context.Plan.Strategy.Drain;
        var time = context.Time;
        var deadline = context.StepStartedAt + drain.Timeout;
        var zeros = 0;
        var evicting = false;
        var perPoll = Math.Max(1, (int)Math.Ceiling(drain.EvictionRate * drain.PollInterval.TotalSeconds));
        long evicted = 0;
        long last = -1;
        while (true)
        {
            var (fromBalancers, fromNode) = await ReadAsync(context, node, cancellationToken).ConfigureAwait(false);
            var total = Math.Max(fromBalancers, fromNode ?? 0);
            if (total != last)
            {
                context.Emit(RunEventTypes.Progress, $"{node.Name}: {fromBalancers} connection(s) at the load balancers{(fromNode is { } n ? $", {n} session(s) on the node" : string.Empty)}", step,
                    new Dictionary<string, string> { ["connections"] = total.ToString(CultureInfo.InvariantCulture) });
                last = total;
            }

            zeros = total == 0 ? zeros + 1 : 0;
            if (zeros >= drain.ZeroReadings)
            {
                if (evicted > 0)
                {
                    context.Emit(RunEventTypes.Progress, $"{node.Name}: drained after evicting {evicted} session(s)", step);
                }

                return;
            }

            if (!evicting && total > 0 && time.GetUtcNow() >= deadline)
            {
                switch (drain.OnTimeout)
                {
                    case DrainTimeoutPolicy.Fail:
                        throw new StepFailedException($"{node.Name} still has {total} live connection(s) after {DurationText.Format(drain.Timeout)} (on_timeout = \"fail\")", nodeTouched: false);
                    case DrainTimeoutPolicy.Stop:
                        context.Emit(RunEventTypes.Warning, $"{node.Name} still has {total} live connection(s) after {DurationText.Format(drain.Timeout)}; stopping it anyway (on_timeout = \"stop\")", step);
                        return;
                    default:
                        evicting = true;
                        context.Emit(RunEventTypes.Warning, $"{node.Name} still has {total} live connection(s) after {DurationText.Format(drain.Timeout)}; evicting {drain.EvictionRate}/s", step);
                        break;
                }
            }

            if (evicting && total > 0)
            {
                foreach (var lb in context.LoadBalancers)
                {
                    evicted += await context.Transient.ExecuteAsync(async ct => await lb.EvictAsync(node, perPoll, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }
            }

            await Task.Delay(drain.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(long Balancers, long? Node)> ReadAsync(RunContext context, NodeSpec node, CancellationToken cancellationToken)
    {
        long balancers = 0;
        foreach (var lb in context.LoadBalancers)
        {
            var states = await context.Transient.ExecuteAsync(async ct => await lb.ReadAsync([node], ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            balancers += states.Sum(s => s.LiveConnections);
        }

        var sessions = await context.Transient.ExecuteAsync(async ct => await context.Product.SessionCountAsync(node, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return (balancers, sessions);
    }
}
