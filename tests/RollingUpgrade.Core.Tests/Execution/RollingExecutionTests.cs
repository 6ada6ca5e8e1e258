using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Ports;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

public sealed class RollingExecutionTests
{
    [Fact(Timeout = 30_000)]
    public async Task Upgrades_every_node_once_in_order_and_returns_each_to_rotation()
    {
        using var run = new RunHarness(TestPlans.Rolling());

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        outcome.ExitCode.ShouldBe(0);
        run.World.Nodes.Values.ShouldAllBe(n => n.Running && n.RunningVersion == "24.0" && n.Installs == 1);
        run.Adapters.Product.Log.ShouldBe(["stop n1", "start n1", "stop n2", "start n2", "stop n3", "start n3"]);
        // After n1 is back, n2 and n3 take no new sessions (version affinity); each one's own drain finds it so.
        run.Lb().Log.ShouldBe(["n1=Drain", "n1=Ready", "n2=Drain", "n3=Drain", "n2=Ready", "n3=Ready"]);
        run.Journal().Last().Data!["outcome"].ShouldBe("succeeded");
    }

    [Fact(Timeout = 30_000)]
    public async Task Waits_for_live_sessions_to_end_before_stopping_a_node()
    {
        using var run = new RunHarness(TestPlans.Rolling(timeout: "10m"));
        var n1 = run.World.Nodes["n1"];
        n1.SessionEnds.Add(run.Clock.GetUtcNow().AddSeconds(40));
        n1.SessionEnds.Add(run.Clock.GetUtcNow().AddSeconds(95));
        DateTimeOffset? stoppedAt = null;
        var started = run.Clock.GetUtcNow();

        var outcome = await run.RunAsync();
        stoppedAt = run.Journal().First(r => r.Type == JournalTypes.StepStarted && r.StepId == "Stop:n1").At;

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        (stoppedAt.Value - started).ShouldBeGreaterThan(TimeSpan.FromSeconds(95));
        run.Lb().Evicted.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Drain_timeout_with_fail_policy_returns_the_node_to_rotation_and_halts()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "fail", timeout: "30s"));
        run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.ExitCode.ShouldBe(1);
        outcome.Summary.ShouldContain("n1 still has 1 live connection(s) after 30s");
        outcome.Summary.ShouldContain("put back into rotation");
        run.Lb().States["n1"].ShouldBe(ServerAdminState.Ready);
        run.World.Nodes["n1"].Running.ShouldBeTrue();
        run.World.Nodes["n1"].Installs.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_node_down_before_the_run_is_not_said_to_serve_when_the_run_halts()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(nodes: 4, capacity: 2, onTimeout: "fail", timeout: "30s"),
            t => TestPlans.RollingWorld(t, nodes: 4)
        );
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().Unhealthy.Add("n4");
        run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("put back into rotation");
        outcome.Summary.ShouldNotContain("every node serves");
        outcome.Summary.ShouldContain("n1, n2, n3 serving; n4 in rotation but failing lb-a's health check");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_halt_names_a_node_that_fails_its_health_check_instead_of_every_node_in_rotation()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(nodes: 4, capacity: 2),
            t => TestPlans.RollingWorld(t, nodes: 4)
        );
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().Unhealthy.Add("n4");
        run.World.Nodes["n2"].FailInstall = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain(
            "n2 out of rotation; n1, n3 serving; n4 in rotation but failing lb-a's health check"
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Drain_timeout_with_evict_policy_evicts_at_the_plan_rate()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "30s"));
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Lb().Evicted.ShouldBe(10);
        var journal = run.Journal();
        var waitStart = journal.First(r => r.StepId == "WaitDrained:n2" && r.Type == JournalTypes.StepStarted).At;
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n2" && r.Type == JournalTypes.StepSucceeded).At;
        // 30 s deadline, then 10 sessions at 2 per second: at least 5 more seconds, not all at once.
        (waitEnd - waitStart).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(34));
    }

    [Fact(Timeout = 30_000)]
    public async Task Eviction_goes_through_the_node_when_the_product_can_end_sessions_itself()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "30s"));
        run.Adapters.Product.CanEvict = true;
        for (var i = 0; i < 10; i++)
        {
            run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));
        }

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Adapters.Product.Evicted.ShouldBe(10);
        run.Lb().Evicted.ShouldBe(0);
        // Paced as with the load balancer: no call ended more than the rate allows in one poll.
        run.Adapters.Product.Log.Where(l => l.StartsWith("evict n2", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture))
            .ShouldAllBe(count => count <= 2);
        var journal = run.Journal();
        var waitStart = journal.First(r => r.StepId == "WaitDrained:n2" && r.Type == JournalTypes.StepStarted).At;
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n2" && r.Type == JournalTypes.StepSucceeded).At;
        (waitEnd - waitStart).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(34));
        run.Events.Events.ShouldContain(e =>
            e.Message.Contains("drained after evicting 10 session(s) through the node (clean stream close)")
        );
    }

    [Theory(Timeout = 30_000)]
    [InlineData("warn")]
    [InlineData("halt")]
    public async Task A_package_that_overwrote_the_config_is_said_or_halts_the_run(string policy)
    {
        // The fake installer writes its own config, as a package whose conffile replaced the operator's would.
        var plan = TestPlans
            .Rolling()
            .Replace("[upgrade]\n", $"[upgrade]\non_config_overwritten = \"{policy}\"\n", StringComparison.Ordinal);
        using var run = new RunHarness(plan);

        var outcome = await run.RunAsync();

        var said = "n1: the install changed /etc/app.toml; the files from before are in /etc/rollingupgrade-backups/";
        if (policy == "halt")
        {
            outcome.Status.ShouldBe(RunStatus.Halted);
            outcome.Summary.ShouldContain(said);
            outcome.Summary.ShouldContain("n1 out of rotation");
            run.World.Nodes["n2"].Installs.ShouldBe(0);
            return;
        }

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Events.Events.ShouldContain(e => e.Type == RunEventTypes.Warning && e.Message.StartsWith(said));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("evict")]
    [InlineData("fail")]
    public async Task When_nothing_counts_a_nodes_connections_the_drain_lasts_its_timeout_and_the_policy_decides(
        string onTimeout
    )
    {
        // A balancer that never counts nor says "draining", and a node that cannot count its sessions.
        using var run = new RunHarness(TestPlans.Rolling(timeout: "30s", onTimeout: onTimeout));
        ((FakeLoadBalancer)run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan)).UncountedDrainDelay =
            TimeSpan.Zero;
        run.Adapters.Product.CountsSessions = false;

        var outcome = await run.RunAsync();

        run.Events.Events.ShouldContain(e =>
            e.Message.Contains("n1: no load balancer counts its connections and the node cannot count its sessions")
        );
        var journal = run.Journal();
        var waitStart = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepStarted).At;
        if (onTimeout == "fail")
        {
            outcome.Status.ShouldBe(RunStatus.Halted);
            outcome.Summary.ShouldContain("nothing counts n1's connections");
            run.World.Nodes["n1"].Running.ShouldBeTrue();
            return;
        }

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepSucceeded).At;
        (waitEnd - waitStart).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(30));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_balancer_that_cannot_count_is_a_ceiling_and_the_nodes_own_count_decides(bool productCounts)
    {
        // Like ELBv2: 300 s of "draining" after deregistration, no connection counts (so no version affinity, which
        // ELBv2 cannot express: its drain ends the connections it keeps after that delay).
        using var run = new RunHarness(TestPlans.Rolling(timeout: "10m", extraStrategy: "version_affinity = false"));
        ((FakeLoadBalancer)run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan)).UncountedDrainDelay =
            TimeSpan.FromSeconds(300);
        run.Adapters.Product.CountsSessions = productCounts;
        var sessionEnds = run.Clock.GetUtcNow().AddSeconds(40);
        run.World.Nodes["n1"].SessionEnds.Add(sessionEnds);

        // Without the node's count the wait lasts the balancer's 300 s: one-second turns of the fake clock.
        var outcome = await run.RunAsync(step: productCounts ? null : TimeSpan.FromSeconds(1));

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        var journal = run.Journal();
        var waitStart = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepStarted).At;
        var waitEnd = journal.First(r => r.StepId == "WaitDrained:n1" && r.Type == JournalTypes.StepSucceeded).At;
        if (productCounts)
        {
            // Three zero readings 1 s apart after the session ends, the node is drained, long before the
            // balancer's delay (the wait began however far the fake clock had turned through the steps before it).
            (waitEnd - sessionEnds).ShouldBeInRange(TimeSpan.Zero, TimeSpan.FromSeconds(5));
            (waitEnd - waitStart).ShouldBeLessThan(TimeSpan.FromSeconds(60));
        }
        else
        {
            // The balancer says "draining" for 300 s from the drain itself.
            var drained = journal
                .First(r =>
                    r.StepId?.StartsWith("Drain:n1", StringComparison.Ordinal) == true
                    && r.Type == JournalTypes.StepStarted
                )
                .At;
            (waitEnd - drained).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(300));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Drain_timeout_with_stop_policy_stops_the_node_with_sessions_open()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "stop", timeout: "30s"));
        run.World.Nodes["n1"].SessionEnds.Add(run.Clock.GetUtcNow().AddHours(5));

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded);
        run.Lb().Evicted.ShouldBe(0);
        run.Events.Events.ShouldContain(e => e.Message.Contains("stopping it anyway"));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(3, true)]
    [InlineData(60, false)]
    public async Task A_drain_waits_a_little_for_a_node_that_fails_its_health_check_before_refusing(
        int failingSeconds,
        bool passes
    )
    {
        using var run = new RunHarness(TestPlans.Rolling(nodes: 3, capacity: 2));
        ITimer? recovery = null;
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "Drain:n1:lb-a" && point == FaultPoint.BeforeExecute && recovery is null)
                {
                    // n3's health check flaps just as n1 is about to be drained.
                    run.Lb().Unhealthy.Add("n3");
                    recovery = run.Clock.CreateTimer(
                        _ => run.Lb().Unhealthy.Remove("n3"),
                        null,
                        TimeSpan.FromSeconds(failingSeconds),
                        Timeout.InfiniteTimeSpan
                    );
                }
            }
        );

        var outcome = await run.RunAsync(faults);
        recovery?.Dispose();

        run.Events.Events.ShouldContain(e =>
            e.Message == "n3 in rotation but failing a health check; waiting up to 10s for it before draining n1"
        );
        if (passes)
        {
            outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
            return;
        }

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain(
            "draining n1 would leave 1 serving node(s) (n2); n3 in rotation but failing a health check for 10s; the "
                + "plan needs at least 2"
        );
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Refuses_to_drain_below_the_capacity_rule()
    {
        using var run = new RunHarness(TestPlans.Rolling(nodes: 3, capacity: 2));
        run.World.Nodes["n3"].Running = false;
        run.World.Nodes["n3"].MembershipOverride = null;

        // n3 is down, so the cluster check already refuses; make the check pass but the balancer show n3 drained.
        run.World.Nodes["n3"].Running = true;
        _ = run.Adapters.CreateLoadBalancer(run.Plan.LoadBalancers[0], run.Plan);
        run.Lb().States["n3"] = ServerAdminState.Maintenance;
        run.AdoptDrained = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("draining n1 would leave 1 serving node(s) (n2); the plan needs at least 2");
        run.Lb().States.ContainsKey("n1").ShouldBeFalse();
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Failed_install_halts_with_that_node_out_of_rotation_and_the_others_serving()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n2"].FailInstall = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.ExitCode.ShouldBe(1);
        outcome.Summary.ShouldContain("E: unable to fetch package");
        outcome.Summary.ShouldContain("n2 out of rotation; n1, n3 serving");
        outcome.NextSteps.ShouldContain("rollingupgrade resume");
        run.Lb().States["n2"].ShouldBe(ServerAdminState.Drain);
        run.Lb().States["n1"].ShouldBe(ServerAdminState.Ready);
        run.Lb().States.GetValueOrDefault("n3", ServerAdminState.Ready).ShouldBe(ServerAdminState.Ready);
        run.World.Nodes["n1"].RunningVersion.ShouldBe("24.0");
        run.World.Nodes["n3"].RunningVersion.ShouldBe("23.01");
    }

    [Fact(Timeout = 30_000)]
    public async Task Wrong_membership_after_start_halts_naming_the_missing_node()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n2"].StartsWithVersion = "24.0";
        run.Adapters.Product.Log.Clear();
        var n2 = run.World.Nodes["n2"];

        // n2 comes back as a cluster of its own.
        n2.FailInstall = false;
        run.World.Nodes["n2"].MembershipOverride = null;
        var outcome = await RunWithMembershipBreakAsync(run);

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("membership seen from n2");
        outcome.Summary.ShouldContain("missing ejabberd1@127.0.0.11, ejabberd3@127.0.0.13");
        run.Lb().States["n2"].ShouldBe(ServerAdminState.Drain);
    }

    private static Task<RunOutcome> RunWithMembershipBreakAsync(RunHarness run)
    {
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "Start:n2" && point == FaultPoint.AfterExecute)
                {
                    run.World.Nodes["n2"].Cluster = "alone";
                }
            }
        );
        return run.RunAsync(faults);
    }

    [Fact(Timeout = 30_000)]
    public async Task Wrong_version_after_start_halts()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n1"].StartsWithVersion = "23.01";

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("n1 reports version '23.01' after start; expected 24.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task Rollback_policy_brings_the_failed_and_the_upgraded_nodes_back_to_the_old_version()
    {
        using var run = new RunHarness(TestPlans.Rolling(policy: "rollback"));
        run.World.Nodes["n2"].StartsWithVersion = "25.0";

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.RolledBack, outcome.Summary + string.Join("\n", run.World.Commands));
        outcome.ExitCode.ShouldBe(1);
        run.World.Nodes.Values.ShouldAllBe(n => n.Running && n.RunningVersion == "23.01");
        run.World.Nodes["n1"].Config.ShouldBe("config-v1");
        run.World.Nodes["n2"].Config.ShouldBe("config-v1");
        run.Lb().States.Values.ShouldAllBe(s => s == ServerAdminState.Ready);
        run.Journal().ShouldContain(r => r.Type == JournalTypes.RollbackStarted);
    }

    [Fact(Timeout = 30_000)]
    public async Task Failing_gate_keeps_the_node_out_of_rotation()
    {
        var gates =
            "[[gates]]\nname = \"smoke\"\nkind = \"http\"\nurl = \"http://{host}:5280/api/status\"\nattempts = 2\n";
        using var run = new RunHarness(TestPlans.Rolling(gates: gates));
        run.Adapters.FailingProbeNodes.Add("n1");

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("gate 'smoke' failed on n1: connection refused");
        run.Lb().States["n1"].ShouldBe(ServerAdminState.Drain);
    }

    [Fact(Timeout = 30_000)]
    public async Task Batches_take_several_nodes_out_together_and_start_them_in_reverse_order()
    {
        // One after another (batch_parallel = false): mnesia's order, the last node down comes up first.
        using var run = new RunHarness(
            TestPlans.Rolling(nodes: 5, capacity: 3, batch: 2, extraStrategy: "batch_parallel = false"),
            t => TestPlans.RollingWorld(t, 5)
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        run.Adapters.Product.Log.Take(4).ShouldBe(["stop n1", "stop n2", "start n2", "start n1"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_batch_that_runs_together_is_all_stopped_before_any_of_it_starts()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(nodes: 5, capacity: 3, batch: 2),
            t => TestPlans.RollingWorld(t, 5)
        );

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);
        // Stopped at once and started at once: the order within each stage is not fixed.
        run.Adapters.Product.Log.Take(2).ShouldBe(["stop n1", "stop n2"], ignoreOrder: true);
        run.Adapters.Product.Log.Skip(2).Take(2).ShouldBe(["start n1", "start n2"], ignoreOrder: true);
    }

    [Fact(Timeout = 30_000)]
    public async Task Mixed_version_window_stops_before_taking_another_node_out()
    {
        using var run = new RunHarness(
            TestPlans.Rolling(extraStrategy: "pause_between_nodes = \"20m\"\nmax_mixed_version_window = \"15m\"")
        );

        var outcome = await run.RunAsync(step: TimeSpan.FromSeconds(2));

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("longer than max_mixed_version_window (15m)");
        run.World.Nodes["n1"].RunningVersion.ShouldBe("24.0");
        run.World.Nodes["n2"].RunningVersion.ShouldBe("23.01");
        run.Lb().States.GetValueOrDefault("n2", ServerAdminState.Ready).ShouldBe(ServerAdminState.Ready);
    }

    [Fact(Timeout = 30_000)]
    public async Task Refuses_to_start_when_the_cluster_is_not_whole()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n3"].Running = false;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("n3 is not started");
        run.Lb().SetCalls.ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Refuses_to_start_when_a_node_does_not_take_commands_though_its_product_answers()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n3"].RefusesCommands = true;

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("cannot run commands on n3");
        outcome.Summary.ShouldContain("sudo: a password is required");
        run.Lb().SetCalls.ShouldBe(0);
        run.World.Nodes.Values.ShouldAllBe(n => n.Installs == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Stop_request_ends_at_a_safe_point_and_resume_finishes_the_run()
    {
        using var run = new RunHarness(TestPlans.Rolling(timeout: "10m"));
        run.World.Nodes["n2"].SessionEnds.Add(run.Clock.GetUtcNow().AddMinutes(3));
        using var stop = new CancellationTokenSource();
        var faults = new ActionFaults(
            (step, point, _) =>
            {
                if (step.Id == "WaitDrained:n2" && point == FaultPoint.BeforeExecute)
                {
                    stop.CancelAfter(TimeSpan.FromMilliseconds(20));
                }
            }
        );

        var first = await run.RunAsync(faults, stop.Token);
        first.Status.ShouldBe(RunStatus.Interrupted);
        first.ExitCode.ShouldBe(130);
        run.World.Nodes["n2"].Running.ShouldBeTrue();

        var second = await run.ResumeAsync();
        second.Status.ShouldBe(RunStatus.Succeeded, second.Summary);
        run.World.Nodes.Values.ShouldAllBe(n => n.RunningVersion == "24.0" && n.Installs == 1);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_second_run_on_the_same_cluster_is_refused_while_the_first_holds_the_lock()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        var state = new StateDirectory(run.StateRoot, "test");
        using var held = RunLock.TryAcquire(state.LockPath, "other-run", false, run.Clock).Lock;
        held.ShouldNotBeNull();

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Locked);
        outcome.ExitCode.ShouldBe(3);
        outcome.Summary.ShouldContain("another run holds test");
        run.Adapters.LoadBalancers.ShouldBeEmpty();
    }
}
