using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// What MongooseIM and ejabberd share: a control command whose exit code tells running (0),
/// error (1), usage (2) and node down (3); stop and start (or the plan's own commands) followed by
/// polling the status until the node really is down or up.
/// </summary>
public abstract class CtlProduct(Plan plan, IShellFactory shells, TimeProvider time, ICommandValues? values = null)
    : IProduct
{
    protected Plan Plan { get; } = plan;

    protected ControlCommand Ctl { get; } = new(plan, shells, values);

    protected TimeProvider Time { get; } = time;

    protected static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly DistributionProbe? _distribution = plan.Product.DistAddress is null
        ? null
        : new DistributionProbe(plan, values);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _distributionConfirmed = new(
        StringComparer.Ordinal
    );

    public async Task<NodeRunState> RunStateAsync(NodeSpec node, CancellationToken cancellationToken) =>
        (await StatusAsync(node, cancellationToken).ConfigureAwait(false)).State;

    /// <summary>
    /// Whether the node is up, and its version: a refused connection on its distribution port
    /// (<c>product.dist_address</c>) means down at once; otherwise the control command's <c>status</c>.
    /// </summary>
    public virtual async Task<NodeStatus> StatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        return await DistributionDownAsync(node, cancellationToken).ConfigureAwait(false)
            ?? await ConfirmDistributionAsync(
                    node,
                    await CtlStatusAsync(node, cancellationToken).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
    }

    /// <summary>
    /// Stopped, when the node's distribution port refuses connections; null when there is no probe,
    /// it cannot tell, or the address has not yet been seen accepting while this node ran (until
    /// then a refusal might only mean a wrong port, and the control command decides).
    /// </summary>
    protected async Task<NodeStatus?> DistributionDownAsync(NodeSpec node, CancellationToken cancellationToken) =>
        _distribution is not null
        && _distributionConfirmed.ContainsKey(node.Name)
        && await _distribution.ProbeAsync(node, cancellationToken).ConfigureAwait(false) == DistributionState.Refused
            ? new NodeStatus(
                NodeRunState.Stopped,
                null,
                $"nothing listens on its Erlang distribution port {_distribution.Address(node)}"
            )
            : null;

    /// <summary>
    /// The first time a node reads as running, its distribution port must accept a connection:
    /// otherwise product.dist_address is wrong (or filtered). The first status read of a run sees
    /// every node running, so a wrong setting stops the run there, before anything is touched.
    /// </summary>
    protected async Task<NodeStatus> ConfirmDistributionAsync(
        NodeSpec node,
        NodeStatus status,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(status);
        if (_distribution is null || !status.IsRunning || _distributionConfirmed.ContainsKey(node.Name))
        {
            return status;
        }

        // A refusal settles it; silence may be a busy host or network, so it is asked again, waiting longer each
        // time (1 s, 2 s, 4 s), before the setting is called wrong.
        var state = DistributionState.Unknown;
        var waited = TimeSpan.Zero;
        for (var attempt = 0; attempt < 3 && state == DistributionState.Unknown; attempt++)
        {
            var wait = DistributionProbe.ConnectTimeout * (1 << attempt);
            state = await _distribution.ProbeAsync(node, cancellationToken, wait).ConfigureAwait(false);
            waited += wait;
        }

        if (state != DistributionState.Listening)
        {
            var answer =
                state == DistributionState.Refused
                    ? "refuses connections"
                    : $"does not answer (3 attempts over {waited.TotalSeconds:0}s)";
            throw new UnexpectedAnswerException(
                $"{node.Name} runs, but its Erlang distribution port {_distribution.Address(node)} "
                    + $"(product.dist_address) {answer}; "
                    + $"set the node's fixed distribution port there (inet_dist_listen_min, or -erl_epmd_port) or "
                    + $"remove product.dist_address"
            );
        }

        _distributionConfirmed[node.Name] = true;
        return status;
    }

    /// <summary>
    /// The control command's <c>status</c>: the authority on whether the node is up, and its version.
    /// </summary>
    protected async Task<NodeStatus> CtlStatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = await Ctl.RunAsync(node, ["status"], cancellationToken).ConfigureAwait(false);
        return result.Exit switch
        {
            CtlExit.NodeDown => new NodeStatus(NodeRunState.Stopped, null, result.FirstLine()),
            CtlExit.Ok or CtlExit.Error => ParseStatus(node, result),
            _ => throw new UnexpectedAnswerException(
                $"status on {node.Name} ended with exit code {result.ExitCode}: {result.FirstLine()}"
            ),
        };
    }

    public abstract Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken);

    public abstract Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken);

    public abstract Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken);

    /// <summary>
    /// Products that can end sessions themselves override this; the others leave it to the load balancers.
    /// </summary>
    public virtual Task<long?> EvictSessionsAsync(
        NodeSpec node,
        int maxSessions,
        CancellationToken cancellationToken
    ) => Task.FromResult<long?>(null);

    /// <summary>Reads the output of <c>status</c> (exit code 0 or 1).</summary>
    protected abstract NodeStatus ParseStatus(NodeSpec node, CtlResult result);

    public async Task StopAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = Plan.Product.Stop is { } custom
            ? await Ctl.RunTemplateAsync(node, custom, cancellationToken).ConfigureAwait(false)
            : await Ctl.RunAsync(node, StopArguments(node), cancellationToken).ConfigureAwait(false);

        // "stop" on a node that is already down is not a failure; the status below decides.
        if (result.Exit is not (CtlExit.Ok or CtlExit.NodeDown))
        {
            result.Require(node.Name, "stop");
        }

        await WaitForAsync(node, NodeRunState.Stopped, cancellationToken).ConfigureAwait(false);
    }

    public async Task StartAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = Plan.Product.Start is { } custom
            ? await Ctl.RunTemplateAsync(node, custom, cancellationToken).ConfigureAwait(false)
            : await Ctl.RunAsync(node, ["start"], cancellationToken).ConfigureAwait(false);
        result.Require(node.Name, "start");
        await WaitForAsync(node, NodeRunState.Running, cancellationToken).ConfigureAwait(false);
    }

    protected virtual IReadOnlyList<string> StopArguments(NodeSpec node) => ["stop"];

    /// <summary>
    /// Polls the status until the node reaches <paramref name="wanted"/>; the caller's token bounds the wait.
    /// </summary>
    protected async Task WaitForAsync(NodeSpec node, NodeRunState wanted, CancellationToken cancellationToken)
    {
        var poll = await Time.PollAsync(
                StatusPollInterval,
                Plan.Product.StartTimeout,
                ct => PollStatusAsync(node, wanted, ct),
                status => status.State == wanted,
                cancellationToken
            )
            .ConfigureAwait(false);
        if (poll.Done)
        {
            return;
        }

        // The poll may take shortcuts (such as "not yet" while the API is silent); the last word is the status's.
        var last = await StatusAsync(node, cancellationToken).ConfigureAwait(false);
        if (last.State != wanted)
        {
            throw new UnexpectedAnswerException(
                $"{node.Name} is still {last.State.ToString().ToLowerInvariant()} ({last.Detail}) after "
                    + $"{Plan.Product.StartTimeout.TotalSeconds:0}s; "
                    + $"expected {wanted.ToString().ToLowerInvariant()}"
            );
        }
    }

    /// <summary>
    /// One reading while waiting for <paramref name="wanted"/>; products with a cheaper way to ask override it.
    /// </summary>
    protected virtual Task<NodeStatus> PollStatusAsync(
        NodeSpec node,
        NodeRunState wanted,
        CancellationToken cancellationToken
    ) => StatusAsync(node, cancellationToken);

    protected virtual TimeSpan StatusPollInterval => PollInterval;

    /// <summary>Refuses node names that mongooseimctl 6.x would mangle (its "-f" substring bug).</summary>
    protected static void RefuseForceFlagTrap(NodeSpec node, NodeSpec seed)
    {
        foreach (
            var name in new[] { node.ErlangNode, seed.ErlangNode }.Where(n =>
                n.Contains("-f", StringComparison.Ordinal)
            )
        )
        {
            throw new UnexpectedAnswerException(
                $"refusing to pass '{name}' to mongooseimctl: it contains '-f', which mongooseimctl 6.x strips out "
                    + $"of every argument; rename the node"
            );
        }
    }

    protected static long? ParseCount(CtlResult result)
    {
        var text = result.Output.Trim();
        return
            result.Exit == CtlExit.Ok
            && long.TryParse(
                text,
                System.Globalization.NumberStyles.Integer,
                System.Globalization.CultureInfo.InvariantCulture,
                out var count
            )
            ? count
            : null;
    }
}
