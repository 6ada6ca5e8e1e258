using RollingUpgrade.LoadBalancers.AwsElb;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// moto's ELBv2 server (preinstalled, started here on loopback and stopped by process id), seeded
/// with boto3: a VPC, two subnets, an application load balancer, a listener and a target group.
/// </summary>
public sealed class MotoElbV2Tests : IAsyncLifetime
{
    private MotoServer _moto = null!;
    private int _port;
    private string _targetGroupArn = string.Empty;
    private string _greenArn = string.Empty;
    private string _listenerArn = string.Empty;
    private string _ruleArn = string.Empty;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _moto = await MotoServer.StartAsync();
        (_port, _targetGroupArn, _greenArn, _listenerArn, _ruleArn) = (
            _moto.Port,
            _moto.BlueArn,
            _moto.GreenArn,
            _moto.ListenerArn,
            _moto.RuleArn
        );
    }

    public async Task DisposeAsync()
    {
        await _moto.DisposeAsync();
        _http.Dispose();
    }

    private ElbV2Client Client() =>
        new(
            new Uri($"http://127.0.0.1:{_port}/"),
            "eu-west-1",
            _ => Task.FromResult(new AwsCredentials("testing", "testing", "session-token")),
            _http
        );

    [Fact(Timeout = 60_000)]
    public async Task Register_describe_and_deregister_targets()
    {
        var client = Client();

        await client.RegisterTargetsAsync(
            _targetGroupArn,
            [("10.0.1.10", 5280), ("10.0.1.11", 5280)],
            CancellationToken.None
        );
        var health = await client.DescribeTargetHealthAsync(_targetGroupArn, null, CancellationToken.None);
        await client.DeregisterTargetsAsync(_targetGroupArn, [("10.0.1.10", 5280)], CancellationToken.None);
        var after = await client.DescribeTargetHealthAsync(_targetGroupArn, null, CancellationToken.None);

        health
            .Select(h => h.Id)
            .Order(StringComparer.Ordinal)
            .ShouldBe(["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13"]);
        health.ShouldAllBe(h => h.Port == 5280 && h.State == "healthy");
        after
            .Where(h => h.State != "unused")
            .Select(h => h.Id)
            .Order(StringComparer.Ordinal)
            .ShouldBe(["10.0.1.11", "10.0.1.12", "10.0.1.13"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Names_resolve_to_arns_and_attributes_are_read()
    {
        var client = Client();

        var groups = await client.DescribeTargetGroupsAsync(["xmpp-blue"], CancellationToken.None);
        var attributes = await client.DescribeTargetGroupAttributesAsync(groups["xmpp-blue"], CancellationToken.None);

        groups["xmpp-blue"].ShouldBe(_targetGroupArn);
        attributes.ShouldContainKey("deregistration_delay.timeout_seconds");
    }

    [Fact(Timeout = 60_000)]
    public async Task Errors_carry_the_aws_code_and_message_and_are_not_retried()
    {
        var client = Client();
        var missing = _targetGroupArn.Replace("xmpp-blue", "nope-blue", StringComparison.Ordinal);

        var error = await Should.ThrowAsync<ElbV2Exception>(() =>
            client.DescribeTargetHealthAsync(missing, null, CancellationToken.None)
        );

        error.Code.ShouldBe("TargetGroupNotFound");
        error.IsRetryable.ShouldBeFalse();
        error.Message.ShouldContain("TargetGroupNotFound");
    }

    [Fact(Timeout = 60_000)]
    public async Task Listener_actions_are_read_and_replaced_whole_with_weights()
    {
        var client = Client();
        var listener = (await client.DescribeListenersAsync([_listenerArn], CancellationToken.None)).Single();
        var forward = WeightedForward(90, 10);

        var after = await client.ModifyListenerAsync(_listenerArn, [forward], CancellationToken.None);
        var again = (await client.DescribeListenersAsync([_listenerArn], CancellationToken.None)).Single();

        listener.Protocol.ShouldBe("HTTP");
        listener.Actions.Single().Element(ElbV2Client.Ns + "Type")!.Value.ShouldBe("forward");
        foreach (var read in new[] { after, again })
        {
            Weights(read).ShouldBe(new Dictionary<string, string> { [_targetGroupArn] = "90", [_greenArn] = "10" });
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Rule_actions_are_read_and_replaced()
    {
        var client = Client();

        var before = (await client.DescribeRulesAsync([_ruleArn], CancellationToken.None)).Single();
        var after = await client.ModifyRuleAsync(_ruleArn, [WeightedForward(50, 50)], CancellationToken.None);
        var again = (await client.DescribeRulesAsync([_ruleArn], CancellationToken.None)).Single();

        before.Actions.Single().Element(ElbV2Client.Ns + "TargetGroupArn")!.Value.ShouldBe(_targetGroupArn);
        Weights(after).ShouldBe(new Dictionary<string, string> { [_targetGroupArn] = "50", [_greenArn] = "50" });
        Weights(again).ShouldBe(Weights(after));
    }

    [Fact(Timeout = 60_000)]
    public async Task Target_group_attributes_are_changed_and_read_back()
    {
        var client = Client();

        var changed = await client.ModifyTargetGroupAttributesAsync(
            _greenArn,
            new Dictionary<string, string> { ["deregistration_delay.timeout_seconds"] = "45" },
            CancellationToken.None
        );
        var read = await client.DescribeTargetGroupAttributesAsync(_greenArn, CancellationToken.None);

        changed["deregistration_delay.timeout_seconds"].ShouldBe("45");
        read["deregistration_delay.timeout_seconds"].ShouldBe("45");
    }

    [Fact(Timeout = 60_000)]
    public async Task Target_groups_are_described_by_name_and_arn()
    {
        var client = Client();

        var groups = await client.DescribeTargetGroupsAsync(["xmpp-blue"], [_greenArn], CancellationToken.None);

        groups
            .Select(g => (g.Name, g.Arn, g.Protocol, g.Port))
            .Order()
            .ShouldBe([("xmpp-blue", _targetGroupArn, "HTTP", 5280), ("xmpp-green", _greenArn, "HTTP", 5280)]);
        var missing = await Should.ThrowAsync<ElbV2Exception>(() =>
            client.DescribeListenersAsync(
                [_listenerArn.Replace("listener/", "listener/x", StringComparison.Ordinal)],
                CancellationToken.None
            )
        );
        missing.Code.ShouldBe("ListenerNotFound");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_adapter_drains_readies_and_shifts_traffic_on_moto()
    {
        var plan = RollingUpgrade
            .Plans.PlanLoader.Load(
                $$"""
                [cluster]
                name = "moto"

                [[nodes]]
                name = "b1"
                host = "10.0.1.10"
                erlang_node = "mim@b1"
                lb_ids = { alb = "10.0.1.10" }

                [access]
                kind = "local"

                [product]
                kind = "mongooseim"

                [[load_balancers]]
                name = "alb"
                kind = "aws-elbv2"
                region = "eu-west-1"
                endpoint = "http://127.0.0.1:{{_port}}"
                target_groups = ["xmpp-blue"]
                green_target_groups = ["xmpp-green"]
                listener_arn = "{{_listenerArn}}"
                port = 5280

                [upgrade]
                target_version = "6.3.1"
                install = "true"
                backup_config = false

                [strategy]
                kind = "parallel"
                provision = [["true"]]
                traffic_steps = [30, 100]

                [[strategy.green_nodes]]
                name = "g1"
                host = "10.0.2.10"
                erlang_node = "mim@g1"
                lb_ids = { alb = "10.0.2.10" }
                """,
                "moto.toml"
            )
            .Plan!;
        var lb = new ElbV2LoadBalancer(plan.LoadBalancers[0], plan, Client())
        {
            PollInterval = TimeSpan.FromMilliseconds(100),
        };

        await lb.SetStateAsync(plan.GreenNodes[0], RollingUpgrade.Ports.ServerAdminState.Ready, CancellationToken.None);
        await lb.SetStateAsync(plan.Nodes[0], RollingUpgrade.Ports.ServerAdminState.Ready, CancellationToken.None);
        await lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 30, CancellationToken.None);
        var shifted = await lb.ReadAsync([.. plan.Nodes, .. plan.GreenNodes], CancellationToken.None);
        await lb.SetStateAsync(plan.Nodes[0], RollingUpgrade.Ports.ServerAdminState.Drain, CancellationToken.None);
        var drained = await lb.ReadAsync(plan.Nodes, CancellationToken.None);

        shifted
            .Select(s => (s.Node, s.Admin, s.Healthy, s.TrafficPercent))
            .ShouldBe([
                ("b1", RollingUpgrade.Ports.ServerAdminState.Ready, true, (int?)70),
                ("g1", RollingUpgrade.Ports.ServerAdminState.Ready, true, (int?)30),
            ]);
        (drained.Single().Admin, drained.Single().LiveConnections).ShouldBe(
            (RollingUpgrade.Ports.ServerAdminState.Drain, 0L)
        );
    }

    private System.Xml.Linq.XElement WeightedForward(int blue, int green)
    {
        var ns = ElbV2Client.Ns;
        return new System.Xml.Linq.XElement(
            ns + "member",
            new System.Xml.Linq.XElement(ns + "Type", "forward"),
            new System.Xml.Linq.XElement(
                ns + "ForwardConfig",
                new System.Xml.Linq.XElement(
                    ns + "TargetGroups",
                    new System.Xml.Linq.XElement(
                        ns + "member",
                        new System.Xml.Linq.XElement(ns + "TargetGroupArn", _targetGroupArn),
                        new System.Xml.Linq.XElement(ns + "Weight", blue)
                    ),
                    new System.Xml.Linq.XElement(
                        ns + "member",
                        new System.Xml.Linq.XElement(ns + "TargetGroupArn", _greenArn),
                        new System.Xml.Linq.XElement(ns + "Weight", green)
                    )
                )
            )
        );
    }

    private static Dictionary<string, string> Weights(ListenerOrRule routing) =>
        routing
            .Actions.Single()
            .Element(ElbV2Client.Ns + "ForwardConfig")!
            .Element(ElbV2Client.Ns + "TargetGroups")!
            .Elements(ElbV2Client.Ns + "member")
            .ToDictionary(
                m => m.Element(ElbV2Client.Ns + "TargetGroupArn")!.Value,
                m => m.Element(ElbV2Client.Ns + "Weight")!.Value
            );
}
