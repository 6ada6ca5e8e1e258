using System.Xml.Linq;
using Microsoft.Extensions.Time.Testing;
using RollingUpgrade.LoadBalancers.AwsElb;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests;

/// <summary>
/// The adapter on the in-memory ELBv2 service, on a fake clock: draining, registration, throttling, weighted cutover.
/// </summary>
public sealed class ElbV2AdapterTests : IDisposable
{
    private static readonly XNamespace Ns = ElbV2Client.Ns;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeElbV2Service _service;
    private readonly HttpClient _http;
    private readonly FakeElbV2Service.Group _blue;
    private readonly FakeElbV2Service.Group _green;

    public ElbV2AdapterTests()
    {
        _service = new FakeElbV2Service(_clock);
        _http = new HttpClient(_service);
        _blue = _service.AddGroup("xmpp-blue", delaySeconds: 120);
        _green = _service.AddGroup("xmpp-green", delaySeconds: 120);
        _service.AddGroup("unrelated-1");
        _service.AddGroup("unrelated-2");
        foreach (var ip in new[] { "10.0.1.11", "10.0.1.12" })
        {
            _service.AddHealthy(_blue, ip, 5222);
        }
    }

    public void Dispose() => _http.Dispose();

    private static Plan Plan(string extra = "", string listener = "")
    {
        var text = $$"""
            [cluster]
            name = "aws"

            [[nodes]]
            name = "b1"
            host = "10.0.1.11"
            erlang_node = "mim@b1"
            lb_ids = { alb = "10.0.1.11:5222" }

            [[nodes]]
            name = "b2"
            host = "10.0.1.12"
            erlang_node = "mim@b2"
            lb_ids = { alb = "10.0.1.12" }

            [access]
            kind = "local"

            [product]
            kind = "mongooseim"

            [[load_balancers]]
            name = "alb"
            kind = "aws-elbv2"
            region = "eu-west-1"
            target_groups = ["xmpp-blue"]
            green_target_groups = ["xmpp-green"]
            port = 5222
            ready_timeout = "5m"
            {{listener}}

            [upgrade]
            target_version = "6.3.1"
            install = ["/usr/local/bin/install-mim", "{version}"]
            backup_config = false

            {{extra}}
            """;
        var result = PlanLoader.Load(text, "aws.toml");
        return result.Plan ?? throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
    }

    private static string Rolling => "[strategy]\nkind = \"rolling\"\ncapacity_nodes = 1\n";

    private static string Parallel =>
        """
            [strategy]
            kind = "parallel"
            provision = [["true"]]
            traffic_steps = [25, 50, 100]

            [[strategy.green_nodes]]
            name = "g1"
            host = "10.0.2.11"
            erlang_node = "mim@g1"
            lb_ids = { alb = "10.0.2.11:5222" }
            """;

    private ElbV2LoadBalancer Adapter(Plan plan) =>
        new(
            plan.LoadBalancers[0],
            plan,
            new ElbV2Client(
                new Uri("https://elasticloadbalancing.eu-west-1.amazonaws.com/"),
                "eu-west-1",
                _ => Task.FromResult(new AwsCredentials("AKIDEXAMPLE", "secret", null)),
                _http,
                _clock
            ),
            _clock
        );

    private Task<T> Run<T>(Func<Task<T>> body) => ClockDriver.RunAsync(_clock, body, TimeSpan.FromMilliseconds(500));

    private Task Run(Func<Task> body) =>
        ClockDriver.RunAsync(
            _clock,
            async () =>
            {
                await body();
                return true;
            },
            TimeSpan.FromMilliseconds(500)
        );

    [Fact(Timeout = 30_000)]
    public async Task Drain_deregisters_and_the_target_drains_for_the_groups_delay()
    {
        var plan = Plan(Rolling);
        var lb = Adapter(plan);

        await Run(() => lb.SetStateAsync(plan.Nodes[0], ServerAdminState.Drain, CancellationToken.None));

        _service.StateOf(_blue, "10.0.1.11", 5222).ShouldBe("draining");
        var during = (await lb.ReadAsync(plan.Nodes, CancellationToken.None)).Single(s => s.Node == "b1");
        (during.Admin, during.LiveConnections, during.ConnectionsCounted).ShouldBe((ServerAdminState.Drain, 1L, false));
        // The fake clock turned while the drain was confirmed (more turns on a loaded machine): count the delay from
        // the deregistration itself.
        var since = _blue.Targets[("10.0.1.11", 5222)].Since;
        _clock.Advance(since + TimeSpan.FromSeconds(119) - _clock.GetUtcNow());
        (await lb.ReadAsync(plan.Nodes, CancellationToken.None))
            .Single(s => s.Node == "b1")
            .LiveConnections.ShouldBe(1);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var after = (await lb.ReadAsync(plan.Nodes, CancellationToken.None)).Single(s => s.Node == "b1");
        (after.Admin, after.LiveConnections).ShouldBe((ServerAdminState.Drain, 0L));
        (await lb.ReadAsync(plan.Nodes, CancellationToken.None)).Single(s => s.Node == "b2").IsServing.ShouldBeTrue();
    }

    [Fact(Timeout = 30_000)]
    public async Task Ready_registers_and_returns_only_once_the_target_is_healthy()
    {
        var plan = Plan(Rolling);
        var lb = Adapter(plan);
        await Run(() => lb.SetStateAsync(plan.Nodes[1], ServerAdminState.Drain, CancellationToken.None));
        _clock.Advance(TimeSpan.FromMinutes(3));
        var started = _clock.GetUtcNow();

        await Run(() => lb.SetStateAsync(plan.Nodes[1], ServerAdminState.Ready, CancellationToken.None));

        (_clock.GetUtcNow() - started).ShouldBeGreaterThanOrEqualTo(_service.HealthyAfter);
        _service.StateOf(_blue, "10.0.1.12", 5222).ShouldBe("healthy");
        _service.Requests.ShouldContain(r =>
            r.Action == "RegisterTargets" && r.Parameters["Targets.member.1.Port"] == "5222"
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_target_that_never_turns_healthy_fails_with_its_reason_after_the_ready_timeout()
    {
        var plan = Plan(Rolling);
        var lb = Adapter(plan);
        _service.Unhealthy.Add("10.0.1.12");
        await Run(() => lb.SetStateAsync(plan.Nodes[1], ServerAdminState.Drain, CancellationToken.None));
        _clock.Advance(TimeSpan.FromMinutes(3));

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            Run(() => lb.SetStateAsync(plan.Nodes[1], ServerAdminState.Ready, CancellationToken.None))
        );

        error.Message.ShouldContain("'unhealthy' (Target.FailedHealthChecks) 300s after registering");
    }

    [Fact(Timeout = 30_000)]
    public async Task Throttling_is_retried_with_back_off_and_other_errors_are_not()
    {
        var plan = Plan(Rolling);
        var lb = Adapter(plan);
        _service.ThrottleNext = 3;

        var states = await Run(() => lb.ReadAsync(plan.Nodes, CancellationToken.None));

        states.Count.ShouldBe(2);
        _service.Throttled.ShouldBe(3);

        _service.ThrottleNext = 50;
        var error = await Should.ThrowAsync<ElbV2Exception>(() =>
            Run(() => lb.ReadAsync(plan.Nodes, CancellationToken.None))
        );
        error.Code.ShouldBe("Throttling");
        _service.Throttled.ShouldBe(3 + 5);

        _service.ThrottleNext = 0;
        var before = _service.Requests.Count;
        var missing = Adapter(Plan(Rolling).WithTargetGroup("nope"));
        var notFound = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            Run(() => missing.ReadAsync(plan.Nodes, CancellationToken.None))
        );
        notFound.Message.ShouldStartWith("alb: target group 'nope' was not found in eu-west-1");
        // TargetGroupNotFound is not retried: one request for it, then one listing (two pages) to name the culprit.
        _service
            .Requests.Skip(before)
            .Count(r => r.Parameters.GetValueOrDefault("Names.member.1") == "nope")
            .ShouldBe(1);
        _service.Requests.Skip(before).Select(r => r.Action).ShouldAllBe(a => a == "DescribeTargetGroups");
    }

    [Fact(Timeout = 30_000)]
    public async Task Alb_cutover_writes_weights_and_sends_the_whole_action_list_back()
    {
        const string listener =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/xmpp/50dc6c495c0c9188/f2f7dc8efc522ab2";
        var authenticate = new XElement(
            Ns + "member",
            new XElement(Ns + "Type", "authenticate-oidc"),
            new XElement(Ns + "Order", "1"),
            new XElement(
                Ns + "AuthenticateOidcConfig",
                new XElement(Ns + "Issuer", "https://idp.example.com"),
                new XElement(Ns + "ClientId", "rollingupgrade")
            )
        );
        var forward = new XElement(
            Ns + "member",
            new XElement(Ns + "Type", "forward"),
            new XElement(Ns + "Order", "2"),
            new XElement(Ns + "TargetGroupArn", _blue.Arn),
            new XElement(
                Ns + "ForwardConfig",
                new XElement(
                    Ns + "TargetGroups",
                    new XElement(
                        Ns + "member",
                        new XElement(Ns + "TargetGroupArn", _blue.Arn),
                        new XElement(Ns + "Weight", "1")
                    )
                ),
                new XElement(
                    Ns + "TargetGroupStickinessConfig",
                    new XElement(Ns + "Enabled", "true"),
                    new XElement(Ns + "DurationSeconds", "3600")
                )
            )
        );
        _service.Listeners[listener] = ("HTTPS", [authenticate, forward]);
        _service.AddHealthy(_green, "10.0.2.11", 5222);
        var plan = Plan(Parallel, $"listener_arn = \"{listener}\"");
        var lb = Adapter(plan);

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 25, CancellationToken.None));

        var sent = _service.Requests.Last(r => r.Action == "ModifyListener").Parameters;
        sent["DefaultActions.member.1.Type"].ShouldBe("authenticate-oidc");
        sent["DefaultActions.member.1.AuthenticateOidcConfig.Issuer"].ShouldBe("https://idp.example.com");
        sent["DefaultActions.member.2.Type"].ShouldBe("forward");
        sent["DefaultActions.member.2.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds"].ShouldBe("3600");
        sent.ShouldNotContainKey("DefaultActions.member.2.TargetGroupArn");
        var weights = Enumerable
            .Range(1, 2)
            .ToDictionary(
                i => sent[$"DefaultActions.member.2.ForwardConfig.TargetGroups.member.{i}.TargetGroupArn"],
                i => sent[$"DefaultActions.member.2.ForwardConfig.TargetGroups.member.{i}.Weight"]
            );
        weights.ShouldBe(new Dictionary<string, string> { [_blue.Arn] = "75", [_green.Arn] = "25" });
        var states = await lb.ReadAsync([.. plan.Nodes, .. plan.GreenNodes], CancellationToken.None);
        // A group's share is split among its nodes: the two blue nodes carry 75% together.
        states.Single(s => s.Node == "g1").TrafficPercent.ShouldBe(25);
        states.Where(s => plan.Nodes.Any(n => n.Name == s.Node)).Select(s => s.TrafficPercent).ShouldBe([37.5, 37.5]);

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 100, CancellationToken.None));
        (await lb.GroupSharesAsync(CancellationToken.None)).ShouldBe(
            new Dictionary<string, int> { [_blue.Arn] = 0, [_green.Arn] = 100 }
        );
        (await lb.ReadAsync(plan.Nodes, CancellationToken.None)).ShouldAllBe(s => !s.IsServing);

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 0, CancellationToken.None));
        (await lb.GroupSharesAsync(CancellationToken.None))[_blue.Arn].ShouldBe(100);
        _service.Listeners[listener].Actions.Count.ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task Alb_cutover_on_a_rule_changes_the_rule_not_the_listener()
    {
        const string rule =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/xmpp/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
        _service.Rules[rule] =
        [
            new XElement(
                Ns + "member",
                new XElement(Ns + "Type", "forward"),
                new XElement(Ns + "TargetGroupArn", _blue.Arn)
            ),
        ];
        var plan = Plan(Parallel, $"rule_arn = \"{rule}\"");
        var lb = Adapter(plan);

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 50, CancellationToken.None));

        _service.Requests.ShouldContain(r => r.Action == "ModifyRule");
        _service.Requests.ShouldNotContain(r => r.Action == "ModifyListener");
        (await lb.GroupSharesAsync(CancellationToken.None)).ShouldBe(
            new Dictionary<string, int> { [_blue.Arn] = 50, [_green.Arn] = 50 }
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Nlb_cutover_swaps_the_one_target_group_once_green_holds_half()
    {
        const string listener =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/xmpp/50dc6c495c0c9188/f2f7dc8efc522ab2";
        _service.Listeners[listener] = (
            "TCP",
            [
                new XElement(
                    Ns + "member",
                    new XElement(Ns + "Type", "forward"),
                    new XElement(Ns + "TargetGroupArn", _blue.Arn)
                ),
            ]
        );
        var plan = Plan(Parallel, $"listener_arn = \"{listener}\"");
        var lb = Adapter(plan);

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 25, CancellationToken.None));
        (await lb.GroupSharesAsync(CancellationToken.None)).ShouldBe(new Dictionary<string, int> { [_blue.Arn] = 100 });

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 50, CancellationToken.None));
        (await lb.GroupSharesAsync(CancellationToken.None)).ShouldBe(
            new Dictionary<string, int> { [_green.Arn] = 100 }
        );
        _service
            .Requests.Last(r => r.Action == "ModifyListener")
            .Parameters.Keys.ShouldNotContain(k => k.Contains("ForwardConfig", StringComparison.Ordinal));

        await Run(() => lb.SetTrafficShareAsync(plan.Nodes, plan.GreenNodes, 0, CancellationToken.None));
        (await lb.GroupSharesAsync(CancellationToken.None)).ShouldBe(new Dictionary<string, int> { [_blue.Arn] = 100 });
    }

    [Theory(Timeout = 30_000)]
    [InlineData("TCP", "Network Load Balancer listener (TCP), which forwards to one target group: cutover swaps it")]
    [InlineData(
        "HTTPS",
        "listener (HTTPS) arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/xmpp/1/2: cutover writes "
            + "a weighted forward action"
    )]
    public async Task Plan_says_how_cutover_will_move_traffic_and_warns_about_a_short_deregistration_delay(
        string protocol,
        string expected
    )
    {
        const string listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/xmpp/1/2";
        _service.Listeners[listener] = (
            protocol,
            [
                new XElement(
                    Ns + "member",
                    new XElement(Ns + "Type", "forward"),
                    new XElement(Ns + "TargetGroupArn", _blue.Arn)
                ),
            ]
        );
        _green.Attributes["deregistration_delay.timeout_seconds"] = "20";
        var plan = Plan(Parallel + "\n[strategy.drain]\ntimeout = \"1m\"\n", $"listener_arn = \"{listener}\"");

        var diagnostics = await Run(() =>
            ElbV2PlanInspector.InspectAsync(plan, plan.LoadBalancers[0], 0, () => Adapter(plan), CancellationToken.None)
        );

        diagnostics.ShouldContain(d => d.IsNote && d.Message.Contains(expected, StringComparison.Ordinal));
        diagnostics.ShouldContain(d =>
            d.IsNote && d.Message == "alb: target group xmpp-blue (HTTP, ip targets): deregistration delay 2m"
        );
        diagnostics
            .Single(d => d.IsWarning)
            .Message.ShouldStartWith(
                "alb: target group xmpp-green ends a deregistered target's connections after 20s, before "
                    + "strategy.drain.timeout (1m)"
            );
        diagnostics.ShouldAllBe(d => d.IsNote || d.IsWarning);
    }

    [Theory]
    [InlineData("i-0abc", null, "i-0abc", null)]
    [InlineData("i-0abc:5222", 80, "i-0abc", 5222)]
    [InlineData("10.0.1.10", 5222, "10.0.1.10", 5222)]
    [InlineData("2001:db8::1", 5222, "2001:db8::1", 5222)]
    [InlineData("[2001:db8::1]:5280", null, "2001:db8::1", 5280)]
    public void Node_ids_name_the_target_and_port(string text, int? defaultPort, string id, int? port) =>
        ElbTarget.Parse(text, defaultPort).ShouldBe(new ElbTarget(id, port));
}

internal static class PlanEdits
{
    public static Plan WithTargetGroup(this Plan plan, string group) =>
        plan with
        {
            LoadBalancers =
            [
                plan.LoadBalancers[0] with
                {
                    Settings = ((AwsElbV2Settings)plan.LoadBalancers[0].Settings) with { TargetGroups = [group] },
                },
            ],
        };
}
