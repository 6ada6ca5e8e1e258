using RollingUpgrade.Demo.Load;

namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// The reference for the fault scenarios: the same rolling upgrade on hosts of their own with nothing going wrong
/// ends with every node on 24.0, the membership exact across the real host names, and no failed client operation.
/// </summary>
public sealed class RollingUnderLoadOnContainersTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task Every_node_is_upgraded_under_client_load_without_a_failed_operation()
    {
        await using var run = await RunAsync("ok", (_, _, _) => Task.CompletedTask);

        run.Code.ShouldBe(0, run.Output);
        run.Output.ShouldContain($"SUCCEEDED: {run.Cluster.Name} runs 24.0");
        foreach (var node in ContainerCluster.Nodes)
        {
            (await run.Cluster.StatusAsync(node)).Output.ShouldContain("ejabberd 24.0 is running");
            var members = await run.Cluster.ExecAsync(node, "ejabberdctl", "list_cluster");
            foreach (var other in ContainerCluster.Nodes)
            {
                members.ShouldContain($"ejabberd@{other}");
            }
        }

        await run.Load.StopAsync();
        foreach (var operation in new[] { LoadOperations.Login, LoadOperations.Ping, LoadOperations.Http })
        {
            run.Load.Attempted(operation).ShouldBeGreaterThan(0, operation);
            run.Load.Failed(operation).ShouldBe(0, $"{operation}:\n{run.Load.Summary()}");
        }
    }
}
