using RollingUpgrade.Planning;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Planning;

public sealed class RollingPlannerTests
{
    [Fact]
    public void Plans_the_documented_procedure_for_each_node()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(nodes: 3));

        var steps = Planner.Create(plan).Steps;

        steps
            .Select(s => s.Id)
            .Take(13)
            .ShouldBe([
                "CheckCluster:n1+n2+n3",
                "Drain:n1:lb-a",
                "WaitDrained:n1",
                "Stop:n1",
                "BackupConfig:n1",
                "Install:n1",
                "Start:n1",
                "VerifyNode:n1",
                "Enable:n1:lb-a",
                "PreferUpgraded:n2+n3:lb-a",
                "Drain:n2:lb-a",
                "WaitDrained:n2",
                "Stop:n2",
            ]);
        steps.Last().Kind.ShouldBe(StepKind.VerifyCluster);
        steps.Select(s => s.Number).ShouldBe(Enumerable.Range(1, steps.Count));
    }

    [Fact]
    public void Version_affinity_holds_the_nodes_still_to_upgrade_after_each_batch_in_balancers_that_keep_connections()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(nodes: 5, capacity: 2, batch: 2, loadBalancers: "lb-a,lb-b"));

        var steps = Planner.Create(plan).Steps;

        // After batch n1+n2 and after batch n3+n4, in both balancers; none after the last batch.
        var affinity = steps.Where(s => s.Kind == StepKind.PreferUpgraded).ToList();
        affinity
            .Select(s => s.Id)
            .ShouldBe([
                "PreferUpgraded:n3+n4+n5:lb-a",
                "PreferUpgraded:n3+n4+n5:lb-b",
                "PreferUpgraded:n5:lb-a",
                "PreferUpgraded:n5:lb-b",
            ]);
        affinity[0].Number.ShouldBe(steps.Last(s => s.Id == "Enable:n2:lb-b").Number + 1);
        affinity[0].Capacity!.Required.ShouldBe(2);
        affinity[0].Description.ShouldContain("upgraded nodes (n1, n2)");
        affinity[0].ServingAfter.ShouldBe(5);
    }

    [Fact]
    public void Version_affinity_leaves_elbv2_alone_waits_for_the_canary_and_can_be_turned_off()
    {
        // lb-b becomes an ELBv2 target group: only lb-a holds the old nodes.
        var mixed = TestPlans
            .Rolling(nodes: 3, loadBalancers: "lb-a,lb-b")
            .Replace(
                "kind = \"haproxy\"\nsockets = [\"/run/lb-b.sock\"]\nbackends = [\"be_xmpp\"]",
                "kind = \"aws-elbv2\"\nregion = \"eu-west-1\"\ntarget_groups = [\"blue-tg\"]\nport = 5222",
                StringComparison.Ordinal
            );
        mixed.ShouldContain("aws-elbv2");
        for (var i = 1; i <= 3; i++)
        {
            mixed = mixed.Replace($"lb-b = \"srv{i}\"", $"lb-b = \"127.0.0.{10 + i}\"", StringComparison.Ordinal);
        }

        Planner
            .Create(TestPlans.Load(mixed))
            .Steps.Where(s => s.Kind == StepKind.PreferUpgraded)
            .Select(s => s.Id)
            .ShouldBe(["PreferUpgraded:n2+n3:lb-a", "PreferUpgraded:n3:lb-a"]);

        var off = TestPlans.Load(TestPlans.Rolling(nodes: 3, extraStrategy: "version_affinity = false"));
        Planner.Create(off).Steps.ShouldNotContain(s => s.Kind == StepKind.PreferUpgraded);

        // A canary after the second batch: new sessions are steered only once it is promoted.
        var canary = Planner
            .Create(TestPlans.Load(TestPlans.Rolling(nodes: 4, extraStrategy: "wait_for_promote_after = 2")))
            .Steps;
        var promote = canary.Single(s => s.Kind == StepKind.AwaitPromote).Number;
        var affinity = canary.Where(s => s.Kind == StepKind.PreferUpgraded).ToList();
        affinity.Select(s => s.Id).ShouldBe(["PreferUpgraded:n3+n4:lb-a", "PreferUpgraded:n4:lb-a"]);
        affinity[0].Number.ShouldBe(promote + 1);
    }

    [Fact]
    public void Serving_capacity_drops_by_the_batch_while_it_is_out()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(nodes: 5, capacity: 3, batch: 2, loadBalancers: "lb-a,lb-b"));

        var steps = Planner.Create(plan).Steps;

        steps.Min(s => s.ServingAfter).ShouldBe(3);
        steps.First(s => s.Id == "Stop:n1").ServingAfter.ShouldBe(3);
        steps.Last().ServingAfter.ShouldBe(5);
        steps.Where(s => s.Kind == StepKind.Drain).Count().ShouldBe(10);
    }

    [Fact]
    public void Planning_is_deterministic()
    {
        var text = TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2);

        var first = Planner.Create(TestPlans.Load(text)).Steps.Select(s => $"{s.Number} {s.Id} {s.Description}");
        var second = Planner.Create(TestPlans.Load(text)).Steps.Select(s => $"{s.Number} {s.Id} {s.Description}");

        first.ShouldBe(second);
    }

    [Fact]
    public void Rollback_path_from_an_install_names_the_restore_and_the_reinstall()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(policy: "rollback"));
        var execution = Planner.Create(plan);
        var install = execution.Steps.First(s => s.Id == "Install:n2");

        var path = execution.RollbackPathAt(install.Number);

        path.ShouldContain("restore the config of n2 from its backup");
        path.ShouldContain("reinstall the previous version on n2");
        path.ShouldContain("return n2 to rotation in lb-a");
        path.ShouldContain("drain n1 in lb-a");
    }

    [Fact]
    public void Halt_policy_describes_which_node_stays_out()
    {
        var plan = TestPlans.Load(TestPlans.Rolling());
        var execution = Planner.Create(plan);

        execution
            .RollbackPathAt(execution.Steps.First(s => s.Id == "Start:n3").Number)
            .ShouldBe("halt with n3 out of rotation, all other nodes serving");
        execution.RollbackPathAt(1).ShouldBe("halt, all nodes serving");
    }

    [Fact]
    public void The_nodes_of_a_batch_share_one_wave_per_stage_and_batches_of_one_have_none()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, loadBalancers: "lb-a,lb-b"));

        var steps = Planner.Create(plan).Steps;

        var first = steps.Where(s => s.Batch == 0).ToList();
        var stages = first.GroupBy(s => s.Wave).ToList();
        stages.ShouldAllBe(g => g.Key != null);
        stages
            .Select(g => string.Join(",", g.Select(s => s.Id)))
            .ShouldBe([
                "Drain:n1:lb-a,Drain:n1:lb-b,Drain:n2:lb-a,Drain:n2:lb-b",
                "WaitDrained:n1,WaitDrained:n2",
                "Stop:n1,Stop:n2",
                "BackupConfig:n1,Install:n1,BackupConfig:n2,Install:n2",
                "Start:n2,Start:n1",
                "VerifyNode:n1,VerifyNode:n2",
                "Enable:n1:lb-a,Enable:n1:lb-b,Enable:n2:lb-a,Enable:n2:lb-b",
            ]);
        // Each drain counts its whole batch out for the capacity rule.
        first
            .Where(s => s.Kind == StepKind.Drain)
            .ShouldAllBe(s => s.Capacity!.Together.SequenceEqual(new[] { "n1", "n2" }));
        steps.Where(s => s.Batch is null).ShouldAllBe(s => s.Wave == null);
        Planner
            .Create(TestPlans.Load(TestPlans.Rolling(nodes: 3)))
            .Steps.ShouldAllBe(s => s.Wave == null && (s.Capacity == null || s.Capacity.Together.Count == 0));
    }

    [Fact]
    public void With_batch_parallel_off_a_batch_is_out_together_but_its_steps_run_one_by_one()
    {
        var plan = TestPlans.Load(
            TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, extraStrategy: "batch_parallel = false")
        );

        var steps = Planner.Create(plan).Steps;

        steps.ShouldAllBe(s => s.Wave == null);
        steps.Where(s => s.Kind == StepKind.Drain && s.Batch == 0).ShouldAllBe(s => s.Capacity!.Together.Count == 2);
    }

    [Fact]
    public void Rolling_a_failed_batch_back_stops_all_of_it_before_any_start_and_verifies_after_all_starts()
    {
        var plan = TestPlans.Load(TestPlans.Rolling(nodes: 4, capacity: 2, batch: 2, policy: "rollback"));
        var forward = Planner.Create(plan).Steps;
        var failed = forward.First(s => s.Kind == StepKind.Install && s.Node == "n2").Number;

        var back = RollbackPlanner.Steps(plan, forward, failed, s => s.Number < failed, "23.01");

        back.Select(s => s.Id)
            .ShouldBe([
                "Stop:n1",
                "Stop:n2",
                "RollbackInstall:n1",
                "RestoreConfig:n1",
                "RollbackInstall:n2",
                "RestoreConfig:n2",
                "Start:n1",
                "Start:n2",
                "VerifyNode:n1:rollback",
                "VerifyNode:n2:rollback",
                "Enable:n1:lb-a",
                "Enable:n2:lb-a",
            ]);
        back.Where(s => s.Kind != StepKind.Enable).ShouldAllBe(s => s.Wave != null);
    }
}
