using System.Globalization;
using System.Text.RegularExpressions;
using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Reporting;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// A drain counts only once each balancer is seen to have stopped sending new sessions to the node, and an eviction
/// only once the evicted clients are seen back on the serving nodes.
/// </summary>
public sealed class DrainProofTests
{
    private static string Plan(string drain = "", string onTimeout = "evict", string timeout = "10s") =>
        TestPlans
            .Rolling(onTimeout: onTimeout, timeout: timeout)
            .Replace("zero_readings = 3\n", $"zero_readings = 3\n{drain}\n", StringComparison.Ordinal);

    private static FakeLoadBalancer Balancer(RunHarness run) =>
        (FakeLoadBalancer)run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);

    [Fact(Timeout = 30_000)]
    public async Task Each_balancer_is_seen_to_stop_sending_and_its_propagation_time_is_journalled()
    {
        using var run = new RunHarness(Plan());
        // lb-a keeps sending n1 short sessions for 4 s after the drain (as persistence would), then stops.
        Balancer(run).SendsAfterDrain = TimeSpan.FromSeconds(4);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var records = run.Journal().Where(r => r.Type == JournalTypes.Propagation).ToList();
        records.Select(r => r.Data!["node"]).ShouldBe(["n1", "n2", "n3"]);
        var n1 = records[0].Data!;
        n1["load_balancer"].ShouldBe("lb-a");
        long.Parse(n1["new_sessions"], System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
        var ms = long.Parse(n1["propagation_ms"], System.Globalization.CultureInfo.InvariantCulture);
        // From the drain step: the balancer stopped 4 s after it took the drain (a moment into the step).
        ms.ShouldBeInRange(3_000, 5_000);
        run.Events.Events.ShouldContain(e =>
            Regex.IsMatch(e.Message, @"^n1: lb-a stopped sending new sessions \d+s(\d+ms)? after the drain")
        );
        // The drain waited for the proof: the wait ended readings after the last new session, not before it.
        var journal = run.Journal();
        var drained = journal.First(r => r.StepId?.StartsWith("Drain:n1", StringComparison.Ordinal) == true).At;
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepSucceeded).At;
        (waitEnd - drained).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(ms + 2_000));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_balancer_that_keeps_sending_past_the_bound_fails_the_step_with_the_node_running()
    {
        using var run = new RunHarness(Plan(drain: "propagation_timeout = \"8s\""));
        Balancer(run).SendsAfterDrain = TimeSpan.FromHours(1);

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain("lb-a still sends new sessions to n1 ");
        outcome.Summary.ShouldContain("the balancer did not take the drain");
        run.World.Nodes["n1"].Running.ShouldBeTrue();
        run.World.Nodes["n1"].Installs.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_balancer_without_a_session_count_is_taken_at_its_word()
    {
        using var run = new RunHarness(Plan());
        Balancer(run).CountsSessionsTotal = false;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Journal().ShouldNotContain(r => r.Type == JournalTypes.Propagation);
    }

    [Fact(Timeout = 30_000)]
    public async Task Evicted_clients_are_seen_back_on_the_serving_nodes()
    {
        using var run = new RunHarness(Plan());
        run.Adapters.Product.CanEvict = true;
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var takeover = run.Journal().Single(r => r.Type == JournalTypes.Takeover).Data!;
        takeover["node"].ShouldBe("n2");
        takeover["evicted"].ShouldBe("10");
        takeover["reestablished"].ShouldBe("10");
        takeover["not_back"].ShouldBe("0");
        takeover["passed"].ShouldBe("true");
        run.Events.Events.ShouldContain(e =>
            e.Message.StartsWith("n2: 10 of 10 evicted session(s) re-established on the serving nodes in ")
        );
        // They went to the node already upgraded, so no later node had them to evict again.
        run.World.Reconnects.ShouldAllBe(r => r == "n2->n1");
        // The report shows both proofs.
        var report = RunReport.FromJournal(outcome.RunId!, "test", run.Journal())!;
        report.Proofs.Count(p => p.Kind == "propagation").ShouldBe(3);
        report.Proofs.Single(p => p.Kind == "takeover").Node.ShouldBe("n2");
        var html = ReportHtml.Render(report);
        html.ShouldContain("<h2>Drain propagation</h2>");
        html.ShouldContain("<h2>Takeover of evicted sessions</h2>");
        html.ShouldContain("<tr><td>n2</td><td>10</td><td>10</td><td>0</td>");
        // Where they went: the serving nodes' sessions as the eviction began and at the reading that saw them back.
        Held(takeover["serving_now"]).Sum().ShouldBe(Held(takeover["serving_at_eviction"]).Sum() + 10);
        html.ShouldContain($"<td>{takeover["serving_at_eviction"]} → {takeover["serving_now"]}</td>");
    }

    [Fact(Timeout = 30_000)]
    public async Task Connections_the_balancer_cuts_after_the_node_ended_its_sessions_are_not_expected_back()
    {
        using var run = new RunHarness(Plan());
        run.Adapters.Product.CanEvict = true;
        // Ten XMPP sessions, and three idle HTTP keep-alive connections the node does not count as sessions.
        Balancer(run).IdleConnections["n2"] = 3;
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Adapters.Product.Evicted.ShouldBe(10);
        run.Lb().Evicted.ShouldBe(3);
        run.Events.Events.ShouldContain(
            e => e.Message.StartsWith("n2: 10 of 10 evicted session(s) re-established on the serving nodes in "),
            string.Join("\n", run.Events.Events.Where(e => e.Node == "n2").Select(e => e.Message))
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Connections_the_balancer_cuts_for_a_node_that_cannot_evict_are_expected_back_as_its_sessions()
    {
        // The balancer cuts everything (the node cannot end its sessions): ten XMPP sessions and three idle HTTP
        // keep-alive connections. Only the ten can come back as sessions: the node's count when the eviction began.
        using var run = new RunHarness(Plan());
        Balancer(run).IdleConnections["n2"] = 3;
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Adapters.Product.Evicted.ShouldBe(0);
        run.Lb().Evicted.ShouldBe(13);
        run.Events.Events.ShouldContain(
            e => e.Message.StartsWith("n2: 10 of 10 evicted session(s) re-established on the serving nodes in "),
            string.Join("\n", run.Events.Events.Where(e => e.Node == "n2").Select(e => e.Message))
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_takeover_that_falls_short_halts_before_the_node_is_stopped()
    {
        using var run = new RunHarness(Plan(drain: "wait_takeover = \"20s\""));
        run.Adapters.Product.CanEvict = true;
        run.World.ReconnectPercent["n1"] = 50;
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);
        outcome.Summary.ShouldContain(
            "only 5 of the 10 session(s) evicted from n1 came back on the serving nodes within 20s (50%; "
                + "takeover_percent is 99)"
        );
        // As for a drain that timed out: the node, never stopped, goes back into rotation and the run halts.
        outcome.Summary.ShouldContain("n1 was not stopped", Case.Sensitive, outcome.Summary);
        outcome.Summary.ShouldContain("n1 was put back into rotation; every node serves", Case.Sensitive);
        run.World.Nodes["n1"].Running.ShouldBeTrue();
        run.World.Nodes["n1"].Installs.ShouldBe(0);
        var takeover = run.Journal().Single(r => r.Type == JournalTypes.Takeover).Data!;
        takeover["passed"].ShouldBe("false");
        takeover["not_back"].ShouldBe("5");
        // Where the clients are, node by node, as the eviction began and at the last reading.
        Held(takeover["serving_now"]).Sum().ShouldBe(Held(takeover["serving_at_eviction"]).Sum() + 5);
        takeover["serving_now"].ShouldStartWith("n2=");
        outcome.Summary.ShouldContain($"; they hold {takeover["serving_now"]}, held {takeover["serving_at_eviction"]}");
    }

    private static IEnumerable<long> Held(string perNode) =>
        perNode.Split(' ').Select(p => long.Parse(p.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture));

    [Fact(Timeout = 30_000)]
    public async Task With_many_serving_nodes_the_takeover_names_those_that_changed_and_sums_the_others()
    {
        // 30 nodes, each holding 4 clients that stay until evicted: 29 nodes serve while the last one is drained (the
        // upgraded ones, which the run prefers), more than the record names one by one.
        using var run = ManyNodes(nodes: 30, clientsEach: 4);

        var outcome = await run.RunAsync(step: TimeSpan.FromSeconds(1));

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var takeovers = run.Journal().Where(r => r.Type == JournalTypes.Takeover).Select(r => r.Data!).ToList();
        var last = takeovers[^1];
        last["passed"].ShouldBe("true");
        var evicted = long.Parse(last["reestablished"], CultureInfo.InvariantCulture);
        evicted.ShouldBeGreaterThan(0);
        var (atEviction, atEvictionOthers, atEvictionHeld) = Named(last["serving_at_eviction"]);
        var (now, nowOthers, nowHeld) = Named(last["serving_now"]);
        // The same nodes are named in both readings, at most 20, and all the others summed: 29 serving nodes.
        now.Keys.ShouldBe(atEviction.Keys, ignoreOrder: true);
        now.Count.ShouldBeInRange(1, 20);
        (now.Count + nowOthers).ShouldBe(29, last["serving_now"]);
        atEvictionOthers.ShouldBe(nowOthers);
        // The named nodes are the ones that gained the evicted clients; the others held what they held.
        (now.Values.Sum() - atEviction.Values.Sum()).ShouldBe(evicted);
        nowHeld.ShouldBe(atEvictionHeld);
        now.ShouldAllBe(n => n.Value > atEviction[n.Key]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_50_other_nodes_a_drain_sample_names_50_of_them_with_the_others_total()
    {
        // 60 nodes, each with 2 clients until evicted: every drain sample reads 59 other nodes.
        using var run = ManyNodes(nodes: 60, clientsEach: 2);

        var outcome = await run.RunAsync(step: TimeSpan.FromSeconds(1));

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var withOthers = run.Journal()
            .Where(r => r.Type == JournalTypes.Sample && r.Data!.ContainsKey("others_nodes"))
            .Select(r => r.Data!)
            .ToList();
        withOthers.Count.ShouldBeGreaterThanOrEqualTo(60);
        foreach (var sample in withOthers)
        {
            var named = sample.Where(p => p.Key.StartsWith("c:", StringComparison.Ordinal)).ToList();
            sample["others_nodes"].ShouldBe("59");
            named.Count.ShouldBeLessThanOrEqualTo(50);
            // Each named node also by balancer; the total covers the named and the rest.
            named.Select(p => p.Key.Substring(2) + "@lb-a").ShouldAllBe(key => sample.ContainsKey(key));
            named
                .Sum(p => long.Parse(p.Value, CultureInfo.InvariantCulture))
                .ShouldBeLessThanOrEqualTo(long.Parse(sample["others_connections"], CultureInfo.InvariantCulture));
        }

        // The first reading of a drain names the 50 busiest; later ones only the nodes that changed (those the
        // evicted clients went to), and none when nothing changed.
        var counts = withOthers.Select(s => s.Count(p => p.Key.StartsWith("c:", StringComparison.Ordinal))).ToList();
        counts.ShouldContain(50);
        counts.ShouldContain(n => n > 0 && n < 50, string.Join(' ', counts));
        var html = ReportHtml.Render(RunReport.FromJournal(outcome.RunId!, "test", run.Journal())!);
        html.ShouldContain("<h2>Live connections per node</h2>");
    }

    /// <summary>A run over <paramref name="nodes"/> nodes, each holding clients that stay until evicted.</summary>
    private static RunHarness ManyNodes(int nodes, int clientsEach)
    {
        var run = new RunHarness(
            TestPlans.Rolling(nodes: nodes, onTimeout: "evict", timeout: "10s"),
            time => TestPlans.RollingWorld(time, nodes: nodes)
        );
        run.Adapters.Product.CanEvict = true;
        foreach (var node in run.World.Nodes.Values)
        {
            for (var i = 0; i < clientsEach; i++)
            {
                node.SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
            }
        }

        return run;
    }

    /// <summary>
    /// "g1=4 g2=3 (and 27 other nodes holding 3)": the named nodes' sessions, how many others and what they hold.
    /// </summary>
    private static (Dictionary<string, long> Named, int Others, long OthersHeld) Named(string perNode)
    {
        var match = Regex.Match(
            perNode,
            @"^(?<named>(\S+=\d+ ?)*)\(and (?<others>\d+) other nodes? holding (?<held>\d+)\)$"
        );
        match.Success.ShouldBeTrue(perNode);
        var named = match
            .Groups["named"]
            .Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(p => p.Split('=')[0], p => long.Parse(p.Split('=')[1], CultureInfo.InvariantCulture));
        return (
            named,
            int.Parse(match.Groups["others"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["held"].Value, CultureInfo.InvariantCulture)
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Sessions_the_cluster_was_losing_before_the_eviction_count_as_churn_not_as_lost()
    {
        // Half the clients leave for good, but the cluster was losing sessions at that pace before the eviction too:
        // n2 and n3 each lose one session a second during n1's drain wait.
        using var run = new RunHarness(Plan(drain: "wait_takeover = \"20s\"\ntakeover_percent = 90"));
        run.Adapters.Product.CanEvict = true;
        run.World.ReconnectPercent["n1"] = 80;
        var now = run.Clock.GetUtcNow();
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(now.AddHours(5));
            run.World.Nodes["n2"].SessionEnds.Add(now.AddSeconds(1 + i));
            run.World.Nodes["n3"].SessionEnds.Add(now.AddSeconds(1 + i));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var first = run.Journal().First(r => r.Type == JournalTypes.Takeover).Data!;
        first["node"].ShouldBe("n1");
        first["passed"].ShouldBe("true");
        run.Events.Events.ShouldContain(e => e.Message.Contains("lost to the cluster's normal churn"));
    }

    [Fact(Timeout = 30_000)]
    public async Task On_timeout_stop_ends_the_sessions_through_the_node_before_the_stop()
    {
        using var run = new RunHarness(Plan(onTimeout: "stop", timeout: "0s"));
        run.Adapters.Product.CanEvict = true;
        for (var i = 0; i < 30; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        // All 30 through the node (a clean close), at the fastest pace (500/s): in one call, none left to the stop.
        run.Adapters.Product.Log.ShouldContain("evict n1 30");
        run.Lb().Evicted.ShouldBe(0);
        run.Events.Events.ShouldContain(e =>
            e.Message.Contains("(on_timeout = \"stop\"); ending its 30 session(s) through the node at up to 500/s")
        );
        run.Events.Events.ShouldContain(
            e => e.Message == "n1: ended 30 session(s) through the node; stopping it",
            string.Join("\n", run.Events.Events.Where(e => e.Node == "n1").Select(e => e.Message))
        );
        var stopAt = run.Adapters.Product.Log.FindIndex(l => l.StartsWith("stop n1", StringComparison.Ordinal));
        var evictAt = run.Adapters.Product.Log.IndexOf("evict n1 30");
        stopAt.ShouldBeGreaterThan(evictAt);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_auto_pace_rises_while_the_serving_nodes_keep_up_and_is_recorded()
    {
        using var run = new RunHarness(
            Plan(drain: "max_eviction_rate = 30")
                .Replace("eviction_rate = 2\n", "eviction_rate = \"auto\"\n", StringComparison.Ordinal)
        );
        run.Adapters.Product.CanEvict = true;
        for (var i = 0; i < 400; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var paces = Paces(run, "n1");
        paces[0].ShouldBe(5);
        paces.Max().ShouldBe(30);
        paces.Zip(paces.Skip(1)).ShouldAllBe(p => p.Second >= p.First, string.Join(", ", paces));
        run.Events.Events.ShouldContain(e => e.Message == "n1: eviction pace 5/s -> 6.5/s (the serving nodes keep up)");
        // 400 sessions at a fixed 5/s would take 80 s; rising to 30/s it takes well under half of that.
        var journal = run.Journal();
        var waitStart = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepStarted).At;
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepSucceeded).At;
        (waitEnd - waitStart - TimeSpan.FromSeconds(10)).ShouldBeLessThan(TimeSpan.FromSeconds(30));
        run.Journal().First(r => r.Type == JournalTypes.Takeover).Data!["passed"].ShouldBe("true");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_auto_pace_halves_when_the_serving_nodes_fall_behind()
    {
        using var run = new RunHarness(
            Plan(drain: "max_eviction_rate = 100")
                .Replace("eviction_rate = 2\n", "eviction_rate = \"auto\"\n", StringComparison.Ordinal)
        );
        run.Adapters.Product.CanEvict = true;
        // The serving nodes log clients in at 8 per second: a faster pace leaves more and more on their way.
        run.World.ReceiversTakePerSecond = 8;
        for (var i = 0; i < 200; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldContain(
            e =>
                e.Message.StartsWith("n1: eviction pace ")
                && e.Message.Contains("evicted session(s) not back on the serving nodes yet"),
            string.Join("\n", run.Events.Events.Where(e => e.Message.Contains("pace")).Select(e => e.Message))
        );
        // Never far above what the receivers take: halved each time it outran them.
        Paces(run, "n1").Max().ShouldBeLessThan(40);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_auto_pace_does_not_rise_while_a_login_on_the_receiving_nodes_fails()
    {
        const string Login =
            "[[gates]]\nname = \"login\"\nkind = \"xmpp-login\"\naddress = \"{host}:5222\"\nuser = \"probe\"\n"
            + "password_env = \"RU_TEST_LOGIN\"\ndomain = \"localhost\"\nmax_latency = \"2s\"\n";
        using var run = new RunHarness(
            TestPlans
                .Rolling(onTimeout: "evict", timeout: "10s", gates: Login)
                .Replace("zero_readings = 3\n", "zero_readings = 3\nmax_eviction_rate = 30\n", StringComparison.Ordinal)
                .Replace("eviction_rate = 2\n", "eviction_rate = \"auto\"\n", StringComparison.Ordinal)
        );
        run.Adapters.Product.CanEvict = true;
        for (var i = 0; i < 100; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        // Logins on the nodes that take n1's clients fail while n1 is evicted; they work again for the gates after.
        run.Adapters.FailingProbeNodes.UnionWith(["n2", "n3"]);
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "WaitDrained:n1" && point == FaultPoint.AfterExecute)
                {
                    run.Adapters.FailingProbeNodes.Clear();
                }
            }
        );

        var outcome = await run.RunAsync(faults);

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var paces = Paces(run, "n1");
        paces.ShouldNotBeEmpty();
        paces.Max().ShouldBeLessThanOrEqualTo(5, string.Join(", ", paces));
        run.Events.Events.ShouldContain(e =>
            e.Message == "n1: eviction pace 5/s -> 2/s (a login on n2 (login) failed: connection refused)"
        );
    }

    [Fact]
    public void A_login_gate_latency_bound_must_be_positive()
    {
        var text = TestPlans.Rolling(
            gates: "[[gates]]\nname = \"login\"\nkind = \"xmpp-login\"\naddress = \"{host}:5222\"\nuser = \"probe\"\n"
                + "password_env = \"RU_TEST_LOGIN\"\ndomain = \"localhost\"\nmax_latency = \"0s\"\n"
        );

        var result = RollingUpgrade.Plans.PlanLoader.Load(text, "test.toml");

        result.Plan.ShouldBeNull();
        result.Diagnostics.ShouldContain(d => d.Message.Contains("max_latency"));
    }

    private static List<double> Paces(RunHarness run, string node) =>
        run.Journal()
            .Where(r => r.Type == JournalTypes.Sample && r.Data!["node"] == node && r.Data.ContainsKey("pace"))
            .Select(r => double.Parse(r.Data!["pace"], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    [Fact]
    public void An_eviction_rate_that_is_neither_a_number_nor_auto_is_refused_by_name()
    {
        var text = Plan().Replace("eviction_rate = 2\n", "eviction_rate = \"fast\"\n", StringComparison.Ordinal);

        var result = RollingUpgrade.Plans.PlanLoader.Load(text, "test.toml");

        result.Plan.ShouldBeNull();
        result.Diagnostics.ShouldContain(d =>
            d.Message == "'strategy.drain.eviction_rate' is 'fast'; write an integer or \"auto\""
        );
    }

    [Fact]
    public void A_plan_without_a_drain_table_finishes_safely_by_default()
    {
        var text = TestPlans.Rolling();
        var start = text.IndexOf("[strategy.drain]", StringComparison.Ordinal);
        var end = text.IndexOf("[rollback]", StringComparison.Ordinal);
        var plan = TestPlans.Load(text.Remove(start, end - start));

        var drain = plan.Strategy.Drain;
        drain.Defaulted.ShouldBeTrue();
        drain.OnTimeout.ShouldBe(DrainTimeoutPolicy.Evict);
        drain.Timeout.ShouldBe(TimeSpan.FromMinutes(2));
        drain.TakeoverPercent.ShouldBe(99);
    }
}
