using System.Text.Json;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// ejabberd through <c>ejabberdctl</c> (Debian ships 23.01) and, when <c>product.api_url</c> is
/// set, its HTTP API: status and version, membership, session counts, eviction and the polls while
/// waiting for a start or stop in about 1 ms each instead of a control-command VM. The API reports
/// the running application's version (ejabberdctl would show the config's <c>version:</c> override
/// instead, which some operators set to brand or hide it). The control command is the fallback
/// whenever the API does not answer (a node that is down or still starting has no HTTP listener).
/// </summary>
public sealed class EjabberdProduct : CtlProduct
{
    private const string EvictionReason = "This server is being upgraded; please reconnect.";

    private static readonly TimeSpan ApiPollInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan CtlCheckWhileApiSilent = TimeSpan.FromSeconds(2);

    private readonly EjabberdApi? _api;

    public EjabberdProduct(
        Plan plan,
        IShellFactory shells,
        TimeProvider time,
        HttpMessageHandler? apiHandler = null,
        ICommandValues? values = null
    )
        : base(plan, shells, time, values)
    {
        _api = plan.Product.ApiUrl is null ? null : new EjabberdApi(plan, apiHandler, values);
        _backlog = new SessionBacklog<EjabberdSession>(time, s => $"{s.User}@{s.Host}/{s.Resource}");
    }

    private readonly SessionBacklog<EjabberdSession> _backlog;

    protected override NodeStatus ParseStatus(NodeSpec node, CtlResult result) =>
        EjabberdStatusParser.Parse(result.ExitCode, result.Text);

    protected override TimeSpan StatusPollInterval => _api is null ? PollInterval : ApiPollInterval;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _lastCtlCheck = new(
        StringComparer.Ordinal
    );

    /// <summary>The API's status when it answers; otherwise the distribution probe and ejabberdctl.</summary>
    public override async Task<NodeStatus> StatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        return await ApiStatusAsync(node, cancellationToken).ConfigureAwait(false) is { } status
            ? await ConfirmDistributionAsync(node, status, cancellationToken).ConfigureAwait(false)
            : await base.StatusAsync(node, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// While waiting for a start, a silent API means "not yet" and the control command is asked
    /// only every few seconds (so a node whose API is not reachable from here still counts as
    /// started); while waiting for a stop, a silent API is settled by the distribution probe or
    /// the control command.
    /// </summary>
    protected override async Task<NodeStatus> PollStatusAsync(
        NodeSpec node,
        NodeRunState wanted,
        CancellationToken cancellationToken
    )
    {
        if (await ApiStatusAsync(node, cancellationToken).ConfigureAwait(false) is { } status)
        {
            return status;
        }

        if (await DistributionDownAsync(node, cancellationToken).ConfigureAwait(false) is { } down)
        {
            return down;
        }

        var now = Time.GetUtcNow();
        if (
            _api is not null
            && wanted == NodeRunState.Running
            && now - _lastCtlCheck.GetValueOrDefault(node.Name, DateTimeOffset.MinValue) < CtlCheckWhileApiSilent
        )
        {
            return new NodeStatus(NodeRunState.Starting, null, "its HTTP API does not answer yet");
        }

        _lastCtlCheck[node.Name] = now;
        return await ConfirmDistributionAsync(
                node,
                await CtlStatusAsync(node, cancellationToken).ConfigureAwait(false),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    private async Task<NodeStatus?> ApiStatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        if (
            _api is null
            || await _api.CallAsync(node, "status", null, cancellationToken).ConfigureAwait(false) is not { } answer
        )
        {
            return null;
        }

        var text = answer.ValueKind == JsonValueKind.String ? answer.GetString()! : answer.ToString();

        // Everything read over this URL is taken for this node's: it must be this node speaking.
        if (
            EjabberdStatusParser.NodeName(text) is { } speaking
            && !string.Equals(speaking, node.ErlangNode, StringComparison.Ordinal)
        )
        {
            throw new UnexpectedAnswerException(
                $"ejabberd's HTTP API at {_api.BaseUrl(node)} answers for {speaking}, not for {node.Name} ("
                    + $"{node.ErlangNode}); product.api_url must reach each node's own API, such as "
                    + $"\"http://{{host}}:5280/api\""
            );
        }

        return EjabberdStatusParser.ParseApi(text);
    }

    /// <summary>
    /// <c>mnesia_info</c> over HTTP, or <c>mnesia info</c>: running and stopped db nodes (list_cluster shows running
    /// nodes only).
    /// </summary>
    public override async Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (
            _api is not null
            && await _api.CallAsync(node, "mnesia_info", null, cancellationToken).ConfigureAwait(false) is { } answer
        )
        {
            return MnesiaInfoParser.ParseSystemInfo(StringResult(answer, node, "mnesia_info"));
        }

        var result = (await Ctl.RunAsync(node, ["mnesia", "info"], cancellationToken).ConfigureAwait(false)).Require(
            node.Name,
            "mnesia info"
        );
        return MnesiaInfoParser.ParseInfo(result.Output);
    }

    /// <summary>
    /// Sessions on this node (<c>stats onlineusersnode</c>, from mod_admin_extra); null when not available.
    /// </summary>
    public override async Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (
            _api is not null
            && await _api.CallAsync(node, "stats", new { name = "onlineusersnode" }, cancellationToken)
                .ConfigureAwait(false)
                is { } answer
        )
        {
            return
                answer.ValueKind == JsonValueKind.Object
                && answer.TryGetProperty("stat", out var stat)
                && stat.ValueKind == JsonValueKind.Number
                && stat.TryGetInt64(out var count)
                && count >= 0
                ? count
                : throw new UnexpectedAnswerException(
                    $"ejabberd's HTTP API on {node.Name} answered stats onlineusersnode with '"
                        + $"{ErlangTerms.Shorten(answer.ToString())}', not {{\"stat\": N}}"
                );
        }

        var result = await Ctl.RunAsync(node, ["stats", "onlineusersnode"], cancellationToken).ConfigureAwait(false);
        return result.Exit == CtlExit.NodeDown ? 0 : ParseCount(result);
    }

    /// <summary>
    /// <c>kick_session</c> for up to <paramref name="maxSessions"/> of the sessions that
    /// <c>connected_users_info</c> places on this node: each client gets a stream error naming the
    /// reason, then the stream's close, and reconnects through the load balancer. The listing is reused across
    /// ticks and several sessions are kicked at once (<see cref="SessionBacklog{TSession}"/>): 16 through the HTTP
    /// API, 4 through the control command (which starts a VM on the node for each).
    /// </summary>
    public override Task<long?> EvictSessionsAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _backlog.EvictAsync(
            node.Name,
            maxSessions,
            _api is null ? 4 : 16,
            async ct => await SessionsOnAsync(node, ct).ConfigureAwait(false),
            (session, ct) => KickAsync(node, session, ct),
            cancellationToken
        );
    }

    private async Task<bool> KickAsync(NodeSpec node, EjabberdSession session, CancellationToken cancellationToken)
    {
        if (
            _api is not null
            && await _api.CallAsync(
                    node,
                    "kick_session",
                    new
                    {
                        user = session.User,
                        host = session.Host,
                        resource = session.Resource,
                        reason = EvictionReason,
                    },
                    cancellationToken
                )
                .ConfigureAwait(false)
                is not null
        )
        {
            return true;
        }

        var result = await Ctl.RunAsync(
                node,
                ["kick_session", session.User, session.Host, session.Resource, EvictionReason],
                cancellationToken
            )
            .ConfigureAwait(false);
        result.Require(node.Name, $"kick_session {session.User}@{session.Host}/{session.Resource}");
        return true;
    }

    /// <summary>
    /// The sessions whose c2s process runs on <paramref name="node"/> (connected_users_info lists the whole cluster's;
    /// from the HTTP API the list is read as it arrives and only this node's sessions are kept).
    /// </summary>
    public async Task<IReadOnlyList<EjabberdSession>> SessionsOnAsync(
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        if (
            _api is not null
            && await _api.ListAsync(
                    node,
                    "connected_users_info",
                    item => EjabberdSessionParser.FromJson(item) is var session && IsOn(session) ? session : null,
                    cancellationToken
                )
                .ConfigureAwait(false)
                is { } listed
        )
        {
            return listed;
        }

        var result = await Ctl.RunAsync(node, ["connected_users_info"], cancellationToken).ConfigureAwait(false);
        IReadOnlyList<EjabberdSession> all =
            result.Exit == CtlExit.NodeDown
                ? []
                : EjabberdSessionParser.ParseCtl(result.Require(node.Name, "connected_users_info").Output);
        return all.Where(IsOn).ToList();

        bool IsOn(EjabberdSession session) => string.Equals(session.Node, node.ErlangNode, StringComparison.Ordinal);
    }

    private static string StringResult(JsonElement answer, NodeSpec node, string command)
    {
        if (answer.ValueKind == JsonValueKind.String)
        {
            return answer.GetString()!;
        }

        if (
            answer.ValueKind == JsonValueKind.Object
            && answer.EnumerateObject().Select(p => p.Value).FirstOrDefault(v => v.ValueKind == JsonValueKind.String)
                is { ValueKind: JsonValueKind.String } text
        )
        {
            return text.GetString()!;
        }

        throw new UnexpectedAnswerException(
            $"ejabberd's HTTP API on {node.Name} answered {command} with '{ErlangTerms.Shorten(answer.ToString())}', "
                + $"not a text result"
        );
    }

    public override async Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seed);
        var result = await Ctl.RunAsync(node, ["join_cluster", seed.ErlangNode], cancellationToken)
            .ConfigureAwait(false);
        result.Require(node.Name, $"join_cluster {seed.ErlangNode}");
        if (result.Text.StartsWith("Error", StringComparison.Ordinal))
        {
            throw new UnexpectedAnswerException($"join_cluster {seed.ErlangNode} on {node.Name}: {result.Reason()}");
        }

        await WaitForAsync(node, NodeRunState.Running, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>list_cluster</c>: the running nodes only, one per line, quoted when needed.</summary>
    public async Task<IReadOnlyList<string>> ListClusterAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var result = (await Ctl.RunAsync(node, ["list_cluster"], cancellationToken).ConfigureAwait(false)).Require(
            node.Name,
            "list_cluster"
        );
        return result
            .Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => ErlangTerms.AtomList($"[{line}]").Single())
            .ToList();
    }

    /// <summary><c>connected_users_number</c>: sessions in the whole cluster (not this node).</summary>
    public async Task<long> ConnectedUsersAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var result = (
            await Ctl.RunAsync(node, ["connected_users_number"], cancellationToken).ConfigureAwait(false)
        ).Require(node.Name, "connected_users_number");
        return ParseCount(result)
            ?? throw new UnexpectedAnswerException(
                $"connected_users_number on {node.Name} answered '{result.FirstLine()}'"
            );
    }

    /// <summary>
    /// <c>leave_cluster</c> run from <paramref name="from"/>: removes <paramref name="leaving"/> from the
    /// cluster; ejabberd then halts the leaving node and deletes its mnesia schema.
    /// </summary>
    public async Task LeaveClusterAsync(NodeSpec from, NodeSpec leaving, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leaving);
        var result = await Ctl.RunAsync(from, ["leave_cluster", leaving.ErlangNode], cancellationToken)
            .ConfigureAwait(false);
        result.Require(from.Name, $"leave_cluster {leaving.ErlangNode}");
        await WaitForAsync(leaving, NodeRunState.Stopped, cancellationToken).ConfigureAwait(false);
    }
}
