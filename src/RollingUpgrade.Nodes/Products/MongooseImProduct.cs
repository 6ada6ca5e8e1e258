using System.Collections.Concurrent;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// MongooseIM through <c>mongooseimctl</c>, in the legacy dialect (3.x-6.1: <c>mnesia info</c>,
/// <c>stats onlineusersnode</c>, <c>join_cluster -f</c>) or the GraphQL CLI (6.0+: <c>mnesia systemInfo</c>,
/// <c>stat globalStats</c>, <c>server joinCluster</c>). With <c>cli = "auto"</c> the dialect follows the
/// version each node reports, so it changes as nodes are upgraded across 6.0.
/// </summary>
internal sealed class MongooseImProduct(
    Plan plan,
    IShellFactory shells,
    TimeProvider time,
    ICommandValues? values = null
) : CtlProduct(plan, shells, time, values)
{
    private readonly ConcurrentDictionary<string, MongooseCliDialect> _dialects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Versions.Version3> _versions = new(StringComparer.Ordinal);
    private readonly SessionBacklog<string> _backlog = new(time, jid => jid);
    private readonly MongooseGraphQlApi? _api = plan.Product.ApiUrl is null ? null : new(plan, null, values);

    public MongooseCliDialect DialectOf(NodeSpec node) =>
        Plan.Product.Cli != MongooseCliDialect.Auto
            ? Plan.Product.Cli
            : _dialects.GetValueOrDefault(node.Name, MongooseCliDialect.Auto);

    protected override NodeStatus ParseStatus(NodeSpec node, CtlResult result)
    {
        var status = MongooseStatusParser.Parse(result.ExitCode, result.Text);
        if (status.Version is { } version && Versions.TryParse(version, out var parsed))
        {
            _versions[node.Name] = parsed;
            _dialects[node.Name] =
                parsed >= new Versions.Version3(6, 0, 0) ? MongooseCliDialect.GraphQl : MongooseCliDialect.Legacy;
        }

        return status;
    }

    public override async Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!Plan.Product.UsesCets)
        {
            return await MnesiaMembershipAsync(node, cancellationToken).ConfigureAwait(false);
        }

        var cets = await CetsMembershipAsync(node, cancellationToken).ConfigureAwait(false);
        if (!Plan.Product.UsesMnesia)
        {
            return cets;
        }

        // Both databases run: a node counts as a member only where both say so.
        var mnesia = await MnesiaMembershipAsync(node, cancellationToken).ConfigureAwait(false);
        if (!mnesia.Running.Order(StringComparer.Ordinal).SequenceEqual(cets.Running.Order(StringComparer.Ordinal)))
        {
            throw new UnexpectedAnswerException(
                $"{node.Name}: mnesia runs with [{string.Join(", ", mnesia.Running)}] but CETS has joined "
                    + $"[{string.Join(", ", cets.Running)}]; the node is not fully in the cluster yet"
            );
        }

        return mnesia;
    }

    /// <summary>
    /// CETS (6.1+, priv/graphql/schemas/admin/cets.gql): <c>cets systemInfo</c>. The running members are this node
    /// and its joined nodes (those running its local tables) less any that miss some of them; discovered or
    /// unavailable nodes that have not joined are the stopped ones. Conflicting replication is an error.
    /// </summary>
    private async Task<Membership> CetsMembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var json = await Ctl.RunAsync(node, ["cets", "systemInfo"], cancellationToken).ConfigureAwait(false);
        var info = GraphQlCliResult.Data(
            json.Require(node.Name, "cets systemInfo").Output,
            "cets systemInfo",
            "cets",
            "systemInfo"
        );
        IReadOnlyList<string> Nodes(string key) => GraphQlCliResult.Names(info, key, "cets systemInfo");
        if (Nodes("conflictNodes") is { Count: > 0 } conflicts)
        {
            throw new UnexpectedAnswerException(
                $"cets systemInfo on {node.Name}: tables [{string.Join(", ", Nodes("conflictTables"))}] replicate to a "
                    + $"different list of nodes on [{string.Join(", ", conflicts)}]; the cluster is split"
            );
        }

        var missing = Nodes("remoteNodesWithMissingTables");
        var running = Nodes("joinedNodes")
            .Append(node.ErlangNode)
            .Except(missing, StringComparer.Ordinal)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var stopped = Nodes("discoveredNodes")
            .Concat(Nodes("unavailableNodes"))
            .Concat(missing)
            .Except(running, StringComparer.Ordinal)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return new Membership(running, stopped);
    }

    private async Task<Membership> MnesiaMembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        if (await DialectAsync(node, cancellationToken).ConfigureAwait(false) == MongooseCliDialect.GraphQl)
        {
            // Every key (no --keys): a JSON list would not survive mongooseimctl's re-exec through a shell.
            var json = await Ctl.RunAsync(node, ["mnesia", "systemInfo"], cancellationToken).ConfigureAwait(false);
            return GraphQlCliResult.Membership(json.Require(node.Name, "mnesia systemInfo").Output);
        }

        var info = await Ctl.RunAsync(node, ["mnesia", "info"], cancellationToken).ConfigureAwait(false);
        return MnesiaInfoParser.ParseInfo(info.Require(node.Name, "mnesia info").Output);
    }

    public override async Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (
            _api is not null
            && await _api.CallAsync(
                    node,
                    "stat",
                    "globalStats",
                    "query { stat { globalStats { onlineUsersNode } } }",
                    null,
                    cancellationToken
                )
                .ConfigureAwait(false)
                is { } stats
        )
        {
            return
                stats.ValueKind == System.Text.Json.JsonValueKind.Object
                && stats.TryGetProperty("onlineUsersNode", out var count)
                && count.TryGetInt64(out var sessions)
                && sessions >= 0
                ? sessions
                : throw new UnexpectedAnswerException(
                    $"MongooseIM's GraphQL API on {node.Name} answered stat globalStats with '"
                        + $"{ErlangTerms.Shorten(stats.ToString())}', not onlineUsersNode: N"
                );
        }

        if (await DialectAsync(node, cancellationToken).ConfigureAwait(false) == MongooseCliDialect.GraphQl)
        {
            var json = await Ctl.RunAsync(node, ["stat", "globalStats"], cancellationToken).ConfigureAwait(false);
            if (json.Exit == CtlExit.NodeDown)
            {
                return 0;
            }

            return GraphQlCliResult.Count(
                json.Require(node.Name, "stat globalStats").Output,
                "stat globalStats",
                "stat",
                "globalStats",
                "onlineUsersNode"
            );
        }

        var result = await Ctl.RunAsync(node, ["stats", "onlineusersnode"], cancellationToken).ConfigureAwait(false);
        return result.Exit == CtlExit.NodeDown ? 0 : ParseCount(result);
    }

    /// <summary>
    /// GraphQL CLI (6.x): <c>session listSessions</c>, the sessions whose process runs on this
    /// node, each ended with <c>session kickUserSession</c> (there since 6.0.0, priv/graphql/schemas/admin/
    /// session.gql; <c>kickUser</c> takes a bare JID and ends every session of the user, on every node). The
    /// client gets a stream error and the stream's close. The legacy dialect has no per-node session list, so
    /// the load balancers evict there. The listing is reused across ticks (<see cref="SessionBacklog{TSession}"/>);
    /// 16 kicks run at once over the admin GraphQL API (<c>product.api_url</c>), 4 through mongooseimctl (a VM each).
    /// </summary>
    public override async Task<long?> EvictSessionsAsync(
        NodeSpec node,
        int maxSessions,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        if (
            _api is null
            && await DialectAsync(node, cancellationToken).ConfigureAwait(false) != MongooseCliDialect.GraphQl
        )
        {
            return null;
        }

        return await _backlog
            .EvictAsync(
                node.Name,
                maxSessions,
                _api is null ? 4 : 16,
                async ct =>
                    await ApiSessionsOnAsync(node, ct).ConfigureAwait(false)
                    ?? (
                        await DialectAsync(node, ct).ConfigureAwait(false) == MongooseCliDialect.GraphQl
                            ? await SessionsOnAsync(node, ct).ConfigureAwait(false)
                            : null
                    ),
                (jid, ct) => KickAsync(node, jid, ct),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>The full JIDs of this node's sessions over the GraphQL API; null without one, or unreachable.</summary>
    private async Task<IEnumerable<string>?> ApiSessionsOnAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        if (
            _api is null
            || await _api.CallAsync(
                    node,
                    "session",
                    "listSessions",
                    "query { session { listSessions { user node } } }",
                    null,
                    cancellationToken
                )
                .ConfigureAwait(false)
                is not { } sessions
        )
        {
            return null;
        }

        return MineOf(sessions, node, "MongooseIM's GraphQL API: session listSessions");
    }

    private static List<string> MineOf(System.Text.Json.JsonElement sessions, NodeSpec node, string what) =>
        sessions.ValueKind == System.Text.Json.JsonValueKind.Array
            ? sessions
                .EnumerateArray()
                .Where(s => GraphQlCliResult.Text(s, "node") == node.ErlangNode)
                .Select(s => GraphQlCliResult.Text(s, "user") ?? string.Empty)
                .Where(jid => jid.Contains('/', StringComparison.Ordinal))
                .ToList()
            : throw new UnexpectedAnswerException(
                $"{what} on {node.Name}: expected a list of sessions, got '{ErlangTerms.Shorten(sessions.ToString())}'"
            );

    /// <summary>
    /// The full JIDs of the sessions on this node that can be kicked from here (a resource may hold anything, such as
    /// "Psi+ laptop": through a control command that re-parses its arguments such a JID would not arrive whole, so
    /// that session is left to the load balancers' eviction).
    /// </summary>
    private async Task<IEnumerable<string>?> SessionsOnAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var list = await Ctl.RunAsync(node, ["session", "listSessions"], cancellationToken).ConfigureAwait(false);
        if (list.Exit == CtlExit.NodeDown)
        {
            return [];
        }

        var sessions = GraphQlCliResult.Data(
            list.Require(node.Name, "session listSessions").Output,
            "session listSessions",
            "session",
            "listSessions"
        );
        var mine = MineOf(sessions, node, "session listSessions");
        return Ctl.ArgumentsAreReparsed ? mine.Where(ValueRules.IsShellWord).ToList() : mine;
    }

    /// <summary>
    /// <c>session kickUserSession</c>, over the GraphQL API when there is one; false when the session was gone already,
    /// or when only a control command that re-parses its arguments could carry a JID that is not one shell word.
    /// </summary>
    private async Task<bool> KickAsync(NodeSpec node, string jid, CancellationToken cancellationToken)
    {
        if (
            _api is not null
            && await _api.CallAsync(
                    node,
                    "session",
                    "kickUserSession",
                    "mutation ($user: FullJID!, $reason: String!) "
                        + "{ session { kickUserSession(user: $user, reason: $reason) { kicked } } }",
                    new { user = jid, reason = EvictionReason },
                    cancellationToken
                )
                .ConfigureAwait(false)
                is { } answer
        )
        {
            return Kicked(answer);
        }

        if (Ctl.ArgumentsAreReparsed && !ValueRules.IsShellWord(jid))
        {
            return false;
        }

        var reason = Ctl.ArgumentsAreReparsed ? ShellWordEvictionReason : EvictionReason;
        var kick = await Ctl.RunAsync(
                node,
                ["session", "kickUserSession", "--user", jid, "--reason", reason],
                cancellationToken
            )
            .ConfigureAwait(false);
        var result = GraphQlCliResult.Data(
            kick.Require(node.Name, $"session kickUserSession {jid}").Output,
            "session kickUserSession",
            "session",
            "kickUserSession"
        );
        return Kicked(result);
    }

    private static bool Kicked(System.Text.Json.JsonElement result) =>
        result.ValueKind != System.Text.Json.JsonValueKind.Object
        || !result.TryGetProperty("kicked", out var kicked)
        || kicked.ValueKind != System.Text.Json.JsonValueKind.False;

    /// <summary>What an evicted client reads in its stream error, when arguments arrive as sent.</summary>
    private const string EvictionReason = "This server is being upgraded; please reconnect.";

    /// <summary>The same words as one shell word, for a control command that re-parses its arguments.</summary>
    private const string ShellWordEvictionReason = "server-upgrade:please-reconnect";

    public override async Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(seed);
        if (!Plan.Product.UsesMnesia)
        {
            await AwaitCetsDiscoveryAsync(node, seed, cancellationToken).ConfigureAwait(false);
            return;
        }

        var graphQl = await DialectAsync(node, cancellationToken).ConfigureAwait(false) == MongooseCliDialect.GraphQl;
        if (!graphQl)
        {
            if (!_versions.ContainsKey(node.Name))
            {
                _ = await StatusAsync(node, cancellationToken).ConfigureAwait(false);
            }

            // rel/files/mongooseimctl 6.0.0+: with the legacy words, "-f" is cut out of every argument.
            if (_versions.TryGetValue(node.Name, out var version) && version >= new Versions.Version3(6, 0, 0))
            {
                RefuseForceFlagTrap(node, seed);
            }
        }

        // The legacy words prompt for "yes/no" without -f and loop forever on a closed stdin.
        var arguments = graphQl
            ? new[] { "server", "joinCluster", "--node", seed.ErlangNode }
            : ["join_cluster", "-f", seed.ErlangNode];
        var result = await Ctl.RunAsync(node, arguments, cancellationToken).ConfigureAwait(false);
        if (result.Exit == CtlExit.Error && result.Text.Contains("already joined", StringComparison.Ordinal))
        {
            return;
        }

        result.Require(node.Name, $"join {seed.ErlangNode}");
        if (arguments[0] == "server")
        {
            _ = GraphQlCliResult.Data(result.Output, "server joinCluster", "server", "joinCluster");
        }

        await WaitForAsync(node, NodeRunState.Running, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// CETS only: there is no join (doc/operation-and-maintenance/Cluster-configuration-and-node-management.md,
    /// "Clustering is automatic"): nodes with the same cluster_name find each other through the discovery backend
    /// (RDBMS table or file). The "join" waits until this node has joined the seed, within the start timeout.
    /// </summary>
    private async Task AwaitCetsDiscoveryAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        var poll = await Time.PollAsync(
                StatusPollInterval,
                Plan.Product.StartTimeout,
                ct => CetsMembershipAsync(node, ct),
                m => m.Running.Contains(seed.ErlangNode),
                cancellationToken
            )
            .ConfigureAwait(false);
        if (!poll.Done)
        {
            throw new UnexpectedAnswerException(
                $"{node.Name} has not joined {seed.ErlangNode} in CETS after "
                    + $"{Plan.Product.StartTimeout.TotalSeconds:0}s (joined: "
                    + $"[{string.Join(", ", poll.Last.Running)}]); CETS nodes cluster by themselves when they "
                    + "share internal_databases.cets.cluster_name and discovery backend (the RDBMS table or the "
                    + "node list file): check both on the two nodes"
            );
        }
    }

    private async Task<MongooseCliDialect> DialectAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var dialect = DialectOf(node);
        if (dialect != MongooseCliDialect.Auto)
        {
            return dialect;
        }

        var status = await StatusAsync(node, cancellationToken).ConfigureAwait(false);
        return DialectOf(node) is var detected and not MongooseCliDialect.Auto
            ? detected
            : throw new UnexpectedAnswerException(
                $"cannot tell the mongooseimctl dialect of {node.Name}: it reports {status.Detail}; set product.cli "
                    + $"= \"legacy\" or \"graphql\""
            );
    }
}
