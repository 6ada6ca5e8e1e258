using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.HAProxy;

/// <summary>
/// One plan entry of kind "haproxy": one or more HAProxy instances (an HA pair) with the same
/// backends. A node is its server (named by the node's id in this load balancer, or per backend) in every
/// configured backend that holds it. Changes go to every instance and are read back; if one
/// instance refuses, the instances already changed are put back and the step fails.
/// </summary>
public sealed partial class HAProxyLoadBalancer : ILoadBalancer
{
    private readonly LoadBalancerSpec _spec;
    private readonly HAProxySettings _settings;
    private readonly TimeProvider _time;

    public HAProxyLoadBalancer(
        LoadBalancerSpec spec,
        TimeProvider? time = null,
        Microsoft.Extensions.Logging.ILogger? log = null
    )
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec;
        _settings = (HAProxySettings)spec.Settings;
        _time = time ?? TimeProvider.System;
        Instances = _settings
            .Sockets.Select(s => new HAProxyRuntimeClient(new HAProxyEndpoint(s), _settings.Timeout, _time, log))
            .ToList();
        ReadyTimeout = _settings.ReadyTimeout;
    }

    public string Name => _spec.Name;

    public IReadOnlyList<HAProxyRuntimeClient> Instances { get; }

    /// <summary>How long a server may take to pass its health check after <c>state ready</c>.</summary>
    public TimeSpan ReadyTimeout { get; init; }

    public async Task<IReadOnlyList<ServerState>> ReadAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var snapshots = await SnapshotAllAsync(cancellationToken).ConfigureAwait(false);
        var weights = new Dictionary<string, long>(StringComparer.Ordinal);
        var result = new List<ServerState>();
        foreach (var node in nodes)
        {
            var rows = snapshots
                .SelectMany(s =>
                    Servers(s, node)
                        .Select(x => (Row: s.Stat.Server(x.Backend, x.Server)!, State: s.State(x.Backend, x.Server)))
                )
                .ToList();
            var admin =
                rows.All(r => r.State?.InMaintenance ?? r.Row.Status.StartsWith("MAINT", StringComparison.Ordinal))
                    ? ServerAdminState.Maintenance
                : rows.All(r => (r.State?.Drained ?? false) || (r.State?.InMaintenance ?? false))
                    ? ServerAdminState.Drain
                : ServerAdminState.Ready;
            weights[node.Name] = rows.Min(r => r.Row.Number("uweight"));
            result.Add(
                new ServerState(
                    Name,
                    node.Name,
                    admin,
                    rows.All(r => r.Row.IsUp),
                    rows.Sum(r => r.Row.Live),
                    null,
                    rows.Sum(r => r.Row.Errors),
                    SessionsTotal: rows.Sum(r => r.Row.Number("stot"))
                )
            );
        }

        var total = weights.Values.Sum();
        return result
            .Select(s => s with { TrafficPercent = total == 0 ? 0 : 100.0 * weights[s.Node] / total })
            .ToList();
    }

    public async Task SetStateAsync(NodeSpec node, ServerAdminState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var word = state switch
        {
            ServerAdminState.Drain => "drain",
            ServerAdminState.Maintenance => "maint",
            _ => "ready",
        };
        var snapshots = await SnapshotAllAsync(cancellationToken).ConfigureAwait(false);
        var targets = snapshots
            .SelectMany(s =>
                Servers(s, node).Select(x => new Target(s.Client, x.Backend, x.Server, s.State(x.Backend, x.Server)))
            )
            .ToList();

        var changed = new List<Target>();
        try
        {
            foreach (var target in targets)
            {
                await target
                    .Client.ExecuteMutationAsync(
                        $"set server {target.Backend}/{target.Server} state {word}",
                        cancellationToken
                    )
                    .ConfigureAwait(false);
                changed.Add(target);
            }

            await VerifyAsync(targets, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HAProxyCommandException or TransientException or UnexpectedAnswerException)
        {
            var restored = await CompensateAsync(changed).ConfigureAwait(false);
            throw new UnexpectedAnswerException($"{Name}: setting {node.Name} to {word} failed: {e.Message}{restored}");
        }

        if (state == ServerAdminState.Ready)
        {
            await WaitHealthyAsync(targets, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record Target(HAProxyRuntimeClient Client, string Backend, string Server, ServerStateLine? Before);

    /// <summary>
    /// Reads the admin bits back from every instance; DRAIN or MAINT hide behind DOWN in the status column.
    /// </summary>
    private async Task VerifyAsync(List<Target> targets, ServerAdminState state, CancellationToken cancellationToken)
    {
        foreach (var group in targets.GroupBy(t => t.Client))
        {
            var states = ServerStateLine.Parse(
                await group.Key.ExecuteAsync("show servers state", cancellationToken).ConfigureAwait(false)
            );
            foreach (var target in group)
            {
                var line =
                    states.FirstOrDefault(s => s.Backend == target.Backend && s.Server == target.Server)
                    ?? throw new UnexpectedAnswerException(
                        $"{group.Key.Endpoint}: {target.Backend}/{target.Server} vanished from 'show servers state'"
                    );
                var holds = state switch
                {
                    ServerAdminState.Drain => line.Drained && !line.InMaintenance,
                    ServerAdminState.Maintenance => line.InMaintenance,
                    _ => !line.Drained && !line.InMaintenance,
                };
                if (!holds)
                {
                    throw new UnexpectedAnswerException(
                        $"{group.Key.Endpoint}: {target.Backend}/{target.Server} reads back admin state 0x"
                            + $"{line.AdminState:x2} after setting {state}"
                    );
                }
            }
        }
    }

    /// <summary>Puts every target that was changed back to the admin state it had before.</summary>
    private static async Task<string> CompensateAsync(List<Target> changed)
    {
        if (changed.Count == 0)
        {
            return "; nothing had been changed";
        }

        var failures = new List<string>();
        foreach (var target in changed)
        {
            var word =
                target.Before is { InMaintenance: true } ? "maint"
                : target.Before is { Drained: true } ? "drain"
                : "ready";
            try
            {
                using var timeout = new CancellationTokenSource(target.Client.Timeout);
                await target
                    .Client.ExecuteMutationAsync(
                        $"set server {target.Backend}/{target.Server} state {word}",
                        timeout.Token
                    )
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is HAProxyCommandException or TransientException)
            {
                failures.Add($"{target.Client.Endpoint} {target.Backend}/{target.Server}: {e.Message}");
            }
        }

        return failures.Count == 0
            ? $"; the {changed.Count} change(s) already made were put back"
            : $"; putting changes back also failed ({string.Join("; ", failures)}): check these servers by hand";
    }

    private async Task WaitHealthyAsync(List<Target> targets, CancellationToken cancellationToken)
    {
        // A 'show stat' costs well under a millisecond; polling often returns the node as soon as HAProxy has it UP.
        var poll = await _time
            .PollAsync(
                TimeSpan.FromMilliseconds(100),
                ReadyTimeout,
                ct => DownAsync(targets, ct),
                down => down.Count == 0,
                cancellationToken
            )
            .ConfigureAwait(false);
        if (!poll.Done)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: after 'state ready' not every server passed its health check within "
                    + $"{ReadyTimeout.TotalSeconds:0}s: {string.Join("; ", poll.Last)}"
            );
        }
    }

    /// <summary>The targets not (yet) UP in their HAProxy, each described.</summary>
    private static async Task<List<string>> DownAsync(List<Target> targets, CancellationToken cancellationToken)
    {
        var down = new List<string>();
        foreach (var group in targets.GroupBy(t => t.Client))
        {
            var stat = StatTable.Parse(
                await group.Key.ExecuteAsync("show stat", cancellationToken).ConfigureAwait(false)
            );
            foreach (var target in group)
            {
                var row = stat.Server(target.Backend, target.Server);
                if (row is null || !(row.Status == "UP" || row.Status == "no check"))
                {
                    down.Add(
                        $"{group.Key.Endpoint} {target.Backend}/{target.Server} is {row?.Status ?? "missing"} "
                            + $"{row?["check_status"]}".TrimEnd()
                    );
                }
            }
        }

        return down;
    }
}
