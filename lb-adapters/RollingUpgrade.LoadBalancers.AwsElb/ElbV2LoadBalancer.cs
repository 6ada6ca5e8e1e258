using System.Globalization;
using System.Xml.Linq;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>
/// One plan entry of kind "aws-elbv2": ALB or NLB target groups. A node is a target (instance
/// id or IP, and a port) in each of its target groups: the blue groups, or for green nodes of a
/// parallel cutover the green groups when the plan names them. Drain deregisters the target and
/// lets the group's deregistration delay run (the node's own session count may end the wait
/// sooner: the delay is only a ceiling); ready registers it and waits for <c>healthy</c>.
/// Weighted cutover rewrites the forward action of the listener or rule: on an ALB a weighted
/// ForwardConfig over the blue and green groups, always read back and sent whole with the other
/// actions; on an NLB (one target group per action) the target group is swapped once green
/// holds half the traffic or more.
/// </summary>
public sealed class ElbV2LoadBalancer : ILoadBalancer
{
    private static readonly XNamespace Ns = ElbV2Client.Ns;
    private static readonly string[] NlbProtocols = ["TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"];

    private readonly LoadBalancerSpec _spec;
    private readonly AwsElbV2Settings _settings;
    private readonly Plan _plan;
    private readonly ElbV2Client _client;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _resolve = new(1, 1);
    private Dictionary<string, TargetGroupInfo>? _groups;

    public ElbV2LoadBalancer(LoadBalancerSpec spec, Plan plan, ElbV2Client client, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec;
        _settings = (AwsElbV2Settings)spec.Settings;
        _plan = plan;
        _client = client;
        _time = time ?? TimeProvider.System;
    }

    public string Name => _spec.Name;

    public ElbV2Client Client => _client;

    /// <summary>How often target health is read while waiting for a target to register or drain.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public async Task<IReadOnlyList<ServerState>> ReadAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var health = await HealthAsync(nodes, cancellationToken).ConfigureAwait(false);
        var shares =
            _settings.ListenerArn is null && _settings.RuleArn is null
                ? null
                : await GroupSharesAsync(cancellationToken).ConfigureAwait(false);
        // A node's share: what the listener forwards to each of its groups, split evenly among the nodes read that are
        // in the group (ELBv2 spreads a group's traffic over its targets), so that a side's nodes add up to its share.
        var members = nodes
            .SelectMany(GroupsOf)
            .GroupBy(g => g, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<ServerState>();
        foreach (var node in nodes)
        {
            var target = TargetOf(node);
            var states = GroupsOf(node)
                .Select(g => health[g].FirstOrDefault(h => target.Matches(h))?.State ?? "unused")
                .ToList();
            var registered = states.All(s => s is not ("draining" or "unused"));
            var draining = states.Any(s => s == "draining");
            double? percent = null;
            if (shares is not null)
            {
                percent = GroupsOf(node).Sum(g => (double)shares.GetValueOrDefault(ResolvedArn(g)) / members[g]);
            }

            result.Add(
                new ServerState(
                    Name,
                    node.Name,
                    registered ? ServerAdminState.Ready : ServerAdminState.Drain,
                    states.All(s => s is "healthy" or "unavailable"),
                    draining ? 1 : 0,
                    percent,
                    ConnectionsCounted: false
                )
            );
        }

        return result;
    }

    /// <summary>
    /// Node name -> whether its target is registered (not draining, not unused) in all of its target groups.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, bool>> RegisteredAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var health = await HealthAsync(nodes, cancellationToken).ConfigureAwait(false);
        return nodes.ToDictionary(
            n => n.Name,
            n =>
                GroupsOf(n)
                    .All(g =>
                        health[g].FirstOrDefault(h => TargetOf(n).Matches(h))?.State is { } s
                        && s is not ("draining" or "unused")
                    ),
            StringComparer.Ordinal
        );
    }

    /// <summary>Every target of the nodes' target groups, one DescribeTargetHealth per group.</summary>
    private async Task<Dictionary<string, IReadOnlyList<TargetHealth>>> HealthAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        var health = new Dictionary<string, IReadOnlyList<TargetHealth>>(StringComparer.Ordinal);
        foreach (var group in nodes.SelectMany(GroupsOf).Distinct(StringComparer.Ordinal))
        {
            health[group] = await _client
                .DescribeTargetHealthAsync(
                    await ArnAsync(group, cancellationToken).ConfigureAwait(false),
                    null,
                    cancellationToken
                )
                .ConfigureAwait(false);
        }

        return health;
    }

    public async Task SetStateAsync(NodeSpec node, ServerAdminState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var target = TargetOf(node);
        foreach (var group in GroupsOf(node))
        {
            var arn = await ArnAsync(group, cancellationToken).ConfigureAwait(false);
            if (state == ServerAdminState.Ready)
            {
                await _client.RegisterTargetsAsync(arn, [target.AsPair()], cancellationToken).ConfigureAwait(false);
                await WaitHealthyAsync(node, arn, target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                try
                {
                    await _client
                        .DeregisterTargetsAsync(arn, [target.AsPair()], cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (ElbV2Exception e) when (e.Code == "InvalidTarget")
                {
                    // Not registered (AWS answers success here; some emulators answer InvalidTarget): already out.
                }

                var now = await TargetStateAsync(arn, target, cancellationToken).ConfigureAwait(false);
                if (now is not ("draining" or "unused"))
                {
                    throw new UnexpectedAnswerException(
                        $"{Name}: target {target} of node {node.Name} is still '{now}' in {group} after "
                            + $"DeregisterTargets"
                    );
                }
            }
        }
    }

    /// <summary>
    /// Moves new traffic: <paramref name="greenPercent"/> to the green target groups. The current
    /// action list is read, the forward action rewritten, the whole list sent back and read again.
    /// </summary>
    public async Task SetTrafficShareAsync(
        IReadOnlyList<NodeSpec> blue,
        IReadOnlyList<NodeSpec> green,
        int greenPercent,
        CancellationToken cancellationToken
    )
    {
        var current = await ReadRoutingAsync(cancellationToken).ConfigureAwait(false);
        var blueArns = await ArnsAsync(_settings.TargetGroups, cancellationToken).ConfigureAwait(false);
        var greenArns = await ArnsAsync(_settings.GreenTargetGroups, cancellationToken).ConfigureAwait(false);
        if (greenArns.Count == 0)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: weighted cutover needs 'green_target_groups' (the new cluster's target groups)"
            );
        }

        var forwardIndex = current.Actions.ToList().FindIndex(a => a.Element(Ns + "Type")?.Value == "forward");
        if (forwardIndex < 0)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: {current.Arn} has no forward action to weight (its actions: "
                    + $"{string.Join(", ", current.Actions.Select(a => a.Element(Ns + "Type")?.Value))})"
            );
        }

        var wanted = IsNlb(current)
            ? NlbShares(blueArns, greenArns, greenPercent)
            : AlbShares(blueArns, greenArns, greenPercent);
        var actions = current.Actions.Select(a => new XElement(a)).ToList();
        actions[forwardIndex] = ForwardAction(actions[forwardIndex], wanted, IsNlb(current));
        var after = _settings.RuleArn is { } rule
            ? await _client.ModifyRuleAsync(rule, actions, cancellationToken).ConfigureAwait(false)
            : await _client
                .ModifyListenerAsync(_settings.ListenerArn!, actions, cancellationToken)
                .ConfigureAwait(false);

        // Read back from a fresh describe, not only from the modify answer.
        var shares = await GroupSharesAsync(cancellationToken).ConfigureAwait(false);
        var expected = Percentages(wanted);
        if (expected.Any(e => shares.GetValueOrDefault(e.Key) != e.Value) || after.Actions.Count != actions.Count)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: after the change {current.Arn} forwards {Describe(shares)}, not {Describe(expected)}"
            );
        }
    }

    /// <summary>ELBv2 cannot end connections; the node's product does that (see the drain policy).</summary>
    public Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken) =>
        Task.FromResult(0L);

    /// <summary>The listener's or rule's protocol and actions; null protocol for a rule (ALB only).</summary>
    public async Task<ListenerOrRule> ReadRoutingAsync(CancellationToken cancellationToken)
    {
        if (_settings.RuleArn is { } rule)
        {
            return (await _client.DescribeRulesAsync([rule], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
                ?? throw new UnexpectedAnswerException($"{Name}: rule {rule} was not found");
        }

        if (_settings.ListenerArn is { } listener)
        {
            return (
                    await _client.DescribeListenersAsync([listener], cancellationToken).ConfigureAwait(false)
                ).SingleOrDefault()
                ?? throw new UnexpectedAnswerException($"{Name}: listener {listener} was not found");
        }

        throw new UnexpectedAnswerException($"{Name}: weighted cutover needs 'listener_arn' or 'rule_arn'");
    }

    public static bool IsNlb(ListenerOrRule routing)
    {
        ArgumentNullException.ThrowIfNull(routing);
        return routing.Protocol is { } protocol && NlbProtocols.Contains(protocol, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Target group ARN -> share of new traffic in percent, from the forward action as it is now.</summary>
    public async Task<IReadOnlyDictionary<string, int>> GroupSharesAsync(CancellationToken cancellationToken)
    {
        var routing = await ReadRoutingAsync(cancellationToken).ConfigureAwait(false);
        var forward = routing.Actions.FirstOrDefault(a => a.Element(Ns + "Type")?.Value == "forward");
        var weights = new Dictionary<string, int>(StringComparer.Ordinal);
        if (forward?.Element(Ns + "ForwardConfig")?.Element(Ns + "TargetGroups") is { } groups)
        {
            foreach (var member in groups.Elements(Ns + "member"))
            {
                var arn = member.Element(Ns + "TargetGroupArn")?.Value ?? string.Empty;
                weights[arn] = int.TryParse(
                    member.Element(Ns + "Weight")?.Value,
                    NumberStyles.Integer,
                    CultureInfo.InvariantCulture,
                    out var w
                )
                    ? w
                    : 1;
            }
        }
        else if (forward?.Element(Ns + "TargetGroupArn")?.Value is { Length: > 0 } single)
        {
            weights[single] = 1;
        }

        return Percentages(weights);
    }

    /// <summary>Resolves every plan target group (names and ARNs) once; later calls use the cache.</summary>
    public async Task<IReadOnlyDictionary<string, TargetGroupInfo>> TargetGroupsAsync(
        CancellationToken cancellationToken
    )
    {
        if (_groups is not null)
        {
            return _groups;
        }

        await _resolve.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_groups is null)
            {
                var all = _settings
                    .TargetGroups.Concat(_settings.GreenTargetGroups)
                    .Distinct(StringComparer.Ordinal)
                    .ToList();
                var arns = all.Where(IsArn).ToList();
                var names = all.Where(g => !IsArn(g)).ToList();
                var found = new List<TargetGroupInfo>();
                if (names.Count > 0)
                {
                    found.AddRange(await DescribeAsync(names, []).ConfigureAwait(false));
                }

                if (arns.Count > 0)
                {
                    found.AddRange(await DescribeAsync([], arns).ConfigureAwait(false));
                }

                var map = new Dictionary<string, TargetGroupInfo>(StringComparer.Ordinal);
                foreach (var group in all)
                {
                    map[group] =
                        found.FirstOrDefault(f => f.Arn == group || f.Name == group)
                        ?? throw new UnexpectedAnswerException(
                            $"{Name}: target group '{group}' was not found in {AwsRegion}"
                        );
                }

                // The API names no culprit when one of several is missing; find it, and what it may have meant.
                async Task<IReadOnlyList<TargetGroupInfo>> DescribeAsync(
                    IReadOnlyList<string> names,
                    IReadOnlyList<string> arns
                )
                {
                    try
                    {
                        return await _client
                            .DescribeTargetGroupsAsync(names, arns, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    catch (ElbV2Exception e) when (e.Code == "TargetGroupNotFound")
                    {
                        var existing = await _client
                            .DescribeTargetGroupsAsync([], [], cancellationToken)
                            .ConfigureAwait(false);
                        var missing = names
                            .Where(n => existing.All(g => g.Name != n))
                            .Concat(arns.Where(a => existing.All(g => g.Arn != a)))
                            .ToList();
                        throw new UnexpectedAnswerException(
                            string.Join(
                                "; ",
                                missing.Select(m =>
                                    $"{Name}: target group '{m}' was not found in {AwsRegion}"
                                    + RollingUpgrade.Plans.Binding.Suggestions.DidYouMean(
                                        m,
                                        existing.Select(g => IsArn(m) ? g.Arn : g.Name).ToList()
                                    )
                                )
                            )
                        );
                    }
                }

                _groups = map;
            }

            return _groups;
        }
        finally
        {
            _resolve.Release();
        }
    }

    private string AwsRegion => AwsCredentialChain.Region(_settings.Region) ?? "the configured region";

    private async Task<string> ArnAsync(string group, CancellationToken cancellationToken) =>
        (await TargetGroupsAsync(cancellationToken).ConfigureAwait(false))[group].Arn;

    private async Task<IReadOnlyList<string>> ArnsAsync(
        IReadOnlyList<string> groups,
        CancellationToken cancellationToken
    )
    {
        var list = new List<string>();
        foreach (var group in groups)
        {
            list.Add(await ArnAsync(group, cancellationToken).ConfigureAwait(false));
        }

        return list;
    }

    private string ResolvedArn(string group) =>
        _groups is { } map && map.TryGetValue(group, out var info) ? info.Arn : group;

    private static bool IsArn(string group) => group.StartsWith("arn:", StringComparison.Ordinal);

    /// <summary>The node's target groups: the green ones for a green node when the plan names them.</summary>
    private IReadOnlyList<string> GroupsOf(NodeSpec node) =>
        _plan.GreenNodes.Contains(node) && _settings.GreenTargetGroups.Count > 0
            ? _settings.GreenTargetGroups
            : _settings.TargetGroups;

    public ElbTarget TargetOf(NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return ElbTarget.Parse(node.IdIn(Name), _settings.Port);
    }

    private async Task<string> TargetStateAsync(string arn, ElbTarget target, CancellationToken cancellationToken)
    {
        try
        {
            var health = await _client
                .DescribeTargetHealthAsync(arn, [target.AsPair()], cancellationToken)
                .ConfigureAwait(false);
            return health.FirstOrDefault(h => target.Matches(h))?.State ?? "unused";
        }
        catch (ElbV2Exception e) when (e.Code == "InvalidTarget")
        {
            return "unused";
        }
    }

    private async Task WaitHealthyAsync(
        NodeSpec node,
        string arn,
        ElbTarget target,
        CancellationToken cancellationToken
    )
    {
        var poll = await _time
            .PollAsync(
                PollInterval,
                _settings.ReadyTimeout,
                async ct =>
                    (
                        await _client.DescribeTargetHealthAsync(arn, [target.AsPair()], ct).ConfigureAwait(false)
                    ).FirstOrDefault(h => target.Matches(h)),
                health => health?.State is "healthy" or "unavailable",
                cancellationToken
            )
            .ConfigureAwait(false);
        var now = poll.Last;
        if (!poll.Done)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: target {target} of node {node.Name} is '{now?.State ?? "not registered"}'"
                    + $"{(now?.Reason is { } reason ? $" ({reason})" : string.Empty)} "
                    + $"{_settings.ReadyTimeout.TotalSeconds:0}s after registering; check the target group's health "
                    + $"check, or raise ready_timeout"
            );
        }
    }

    private static Dictionary<string, int> AlbShares(
        IReadOnlyList<string> blue,
        IReadOnlyList<string> green,
        int greenPercent
    )
    {
        var shares = new Dictionary<string, int>(StringComparer.Ordinal);
        Split(blue, 100 - greenPercent);
        Split(green, greenPercent);
        return shares;

        void Split(IReadOnlyList<string> groups, int percent)
        {
            for (var i = 0; i < groups.Count; i++)
            {
                // Integer shares that add up to the side's percentage; the first group takes the remainder.
                shares[groups[i]] = (percent / groups.Count) + (i == 0 ? percent % groups.Count : 0);
            }
        }
    }

    /// <summary>
    /// An NLB action forwards to one target group: the first green one once green holds half or more.
    /// </summary>
    private static Dictionary<string, int> NlbShares(
        IReadOnlyList<string> blue,
        IReadOnlyList<string> green,
        int greenPercent
    ) => new(StringComparer.Ordinal) { [greenPercent >= 50 ? green[0] : blue[0]] = 100 };

    private static XElement ForwardAction(XElement current, IReadOnlyDictionary<string, int> shares, bool nlb)
    {
        var action = new XElement(Ns + "member", new XElement(Ns + "Type", "forward"));
        if (current.Element(Ns + "Order") is { } order)
        {
            action.Add(new XElement(order));
        }

        if (nlb)
        {
            action.Add(new XElement(Ns + "TargetGroupArn", shares.Single().Key));
            return action;
        }

        var config = new XElement(
            Ns + "ForwardConfig",
            new XElement(
                Ns + "TargetGroups",
                shares.Select(s => new XElement(
                    Ns + "member",
                    new XElement(Ns + "TargetGroupArn", s.Key),
                    new XElement(Ns + "Weight", s.Value.ToString(CultureInfo.InvariantCulture))
                ))
            )
        );
        if (current.Element(Ns + "ForwardConfig")?.Element(Ns + "TargetGroupStickinessConfig") is { } stickiness)
        {
            config.Add(new XElement(stickiness));
        }

        action.Add(config);
        return action;
    }

    private static Dictionary<string, int> Percentages(IReadOnlyDictionary<string, int> weights)
    {
        var total = weights.Values.Sum();
        return weights.ToDictionary(
            w => w.Key,
            w => total == 0 ? 0 : (int)Math.Round(w.Value * 100.0 / total),
            StringComparer.Ordinal
        );
    }

    private static string Describe(IReadOnlyDictionary<string, int> shares) =>
        string.Join(
            ", ",
            shares.Select(s =>
            {
                var at = s.Key.IndexOf("targetgroup/", StringComparison.Ordinal);
                return $"{s.Value}% to {s.Key[(at >= 0 ? at + 12 : 0)..]}";
            })
        );
}
