using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Cli.Commands;

/// <summary>Reads each node's status and each load balancer's view; errors are shown, not thrown.</summary>
internal sealed record LiveState(IReadOnlyList<string> Lines)
{
    public static async Task<LiveState> ReadAsync(Plan plan, IAdapterFactory adapters)
    {
        var lines = new List<string>();
        var nodes = plan.Nodes.Concat(plan.GreenNodes).ToList();
        if (Adapters.CliAdapterFactory.Unavailable(plan, adapters) is { Count: > 0 } missing)
        {
            lines.AddRange(missing.Select(m => $"not read: {m}"));
            return new LiveState(lines);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var shells = adapters.CreateShells(plan);
        var product = adapters.CreateProduct(plan, shells, CommandValues.BeforeRun(plan));
        foreach (var node in nodes)
        {
            try
            {
                var status = await product.StatusAsync(node, timeout.Token).ConfigureAwait(false);
                lines.Add(
                    $"{node.Name}: {status.State.ToString().ToLowerInvariant()}"
                        + $"{(status.Version is null ? string.Empty : $", version {status.Version}")}"
                );
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lines.Add($"{node.Name}: unreachable ({e.Message})");
            }
        }

        foreach (var spec in plan.LoadBalancers)
        {
            try
            {
                var lb = adapters.CreateLoadBalancer(spec, plan);
                foreach (var state in await lb.ReadAsync(nodes, timeout.Token).ConfigureAwait(false))
                {
                    var share = state.TrafficPercent is { } p
                        ? $", {p.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}% of traffic"
                        : string.Empty;
                    lines.Add(
                        $"{spec.Name}/{state.Node}: {state.Admin.ToString().ToLowerInvariant()}, "
                            + $"{(state.Healthy ? "healthy" : "unhealthy")}, {state.LiveConnections} connection(s)"
                            + share
                    );
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lines.Add($"{spec.Name}: unreachable ({e.Message})");
            }
        }

        return new LiveState(lines);
    }
}
