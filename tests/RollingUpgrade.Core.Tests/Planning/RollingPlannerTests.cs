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
            .Take(12)
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
                "Drain:n2:lb-a",
                "WaitDrained:n2",
                "Stop:n2",
            ]);
        steps.Last().Kind.ShouldBe(StepKind.VerifyCluster);
        steps.Select(s => s.Number).ShouldBe(Enumerable.Range(1, steps.Count));
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
}
