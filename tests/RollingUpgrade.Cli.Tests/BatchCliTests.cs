using System.Text.Json;

namespace RollingUpgrade.Tests;

/// <summary>
/// A batch on real local nodes (the generic product, a process per command): its nodes' steps overlap in the journal
/// and `plan` says how a batch runs.
/// </summary>
public sealed class BatchCliTests
{
    [Fact(Timeout = 120_000)]
    public async Task The_nodes_of_a_batch_install_at_the_same_time_and_plan_says_so()
    {
        using var cluster = new LocalCluster(nodes: 4);
        var plan = cluster.WritePlan(install: "sleep 1 && echo {version} > {var.dir}/installed");
        File.WriteAllText(
            plan,
            File.ReadAllText(plan)
                .Replace("capacity_nodes = 2\n", "capacity_nodes = 2\nbatch_size = 2\n", StringComparison.Ordinal)
        );
        var state = Path.Combine(cluster.Root, "state");

        var preview = await CliRunner.RunAsync("plan", plan);
        var run = await CliRunner.RunAsync("run", plan, "--state-dir", state);

        preview.ExitCode.ShouldBe(0, preview.Error);
        preview.Output.ShouldContain(
            "batches: the nodes of a batch go through each stage together, at most 32 commands at once"
        );
        run.ExitCode.ShouldBe(0, run.Output + run.Error);
        Enumerable.Range(1, 4).ShouldAllBe(i => cluster.Version(i) == "2.0" && cluster.Running(i));
        var journal = File.ReadAllLines(Directory.GetFiles(state, "*.jsonl", SearchOption.AllDirectories).Single())
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToList();
        DateTimeOffset At(string type, string id) =>
            journal
                .First(r =>
                    r.GetProperty("type").GetString() == type
                    && r.TryGetProperty("id", out var step)
                    && step.GetString() == id
                )
                .GetProperty("at")
                .GetDateTimeOffset();
        foreach (var (a, b) in new[] { ("n1", "n2"), ("n3", "n4") })
        {
            // Each install sleeps a second; both began before either ended.
            At("step-started", $"Install:{a}").ShouldBeLessThan(At("step-succeeded", $"Install:{b}"));
            At("step-started", $"Install:{b}").ShouldBeLessThan(At("step-succeeded", $"Install:{a}"));
        }
    }
}
