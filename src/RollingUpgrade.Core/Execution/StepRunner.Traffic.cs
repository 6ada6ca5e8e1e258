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
        if (current?.Admin == ServerAdminState.Drain)
        {
            context.Emit(RunEventTypes.Progress, $"{node.Name} is already drained in {lb.Name}", step);
            return;
        }

        if (step.Capacity is { } rule)
        {
            await CheckCapacityAsync(rule, context, node, cancellationToken).ConfigureAwait(false);
        }

        await lb.SetStateAsync(node, ServerAdminState.Drain, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses a drain that would leave fewer serving nodes than the plan's capacity rule, or no
    /// serving backend at all. Serving is read from every load balancer, not assumed.
    /// </summary>
    private static async Task CheckCapacityAsync(
        CapacityRule rule,
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        var pool = rule.Pool.Select(context.Node).ToList();
        var serving = pool.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var lb in context.LoadBalancers)
        {
            foreach (var state in await lb.ReadAsync(pool, cancellationToken).ConfigureAwait(false))
            {
                if (!state.IsServing)
                {
                    serving.Remove(state.Node);
                }
            }
        }

        serving.Remove(node.Name);
        var required = rule.Required;

        if (serving.Count < required)
        {
            var left = serving.Count == 0 ? "no node" : string.Join(", ", serving.Order(StringComparer.Ordinal));
            throw new StepFailedException(
                $"draining {node.Name} would leave {serving.Count} serving node(s) ({left}); the plan needs at least "
                    + $"{required}. Bring the other nodes back into rotation first",
                nodeTouched: false
            );
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

        await lb.SetTrafficShareAsync(context.Blue, context.Green, percent, cancellationToken).ConfigureAwait(false);
        var states = await lb.ReadAsync(context.Blue.Concat(context.Green).ToList(), cancellationToken)
            .ConfigureAwait(false);
        var greenNames = context.Green.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var greenShare = states.Where(s => greenNames.Contains(s.Node)).Sum(s => s.TrafficPercent ?? 0);
        if (states.Any(s => s.TrafficPercent is not null) && Math.Abs(greenShare - percent) > 1)
        {
            throw new StepFailedException(
                $"{lb.Name} reads back {greenShare}% on the new cluster after setting {percent}%"
            );
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
