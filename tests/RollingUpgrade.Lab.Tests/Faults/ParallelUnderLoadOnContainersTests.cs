using RollingUpgrade.Demo.Load;

namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// A blue-green cutover on hosts of their own: the green nodes are provisioned with 25.0, started and joined into a
/// cluster of their own (membership checked by the real host names), traffic moves through HAProxy in steps, and the
/// old cluster is drained and stopped, with no failed client operation.
/// </summary>
public sealed class ParallelUnderLoadOnContainersTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task Traffic_moves_to_the_new_cluster_under_client_load_without_a_failed_operation()
    {
        await using var run = await RunAsync("green", (_, _, _) => Task.CompletedTask, parallel: true);

        run.Code.ShouldBe(0, run.Output);
        run.Output.ShouldContain($"SUCCEEDED: {run.Cluster.Name} runs 25.0");
        var members = await run.Cluster.ExecAsync(ContainerCluster.Green[0], "ejabberdctl", "list_cluster");
        foreach (var node in ContainerCluster.Green)
        {
            (await run.Cluster.StatusAsync(node)).Output.ShouldContain("ejabberd 25.0 is running");
            members.ShouldContain($"ejabberd@{node}");
        }

        members.ShouldNotContain("ejabberd@ej1");
        foreach (var node in ContainerCluster.Nodes)
        {
            (await run.Cluster.StatusAsync(node)).Code.ShouldNotBe(0, $"{node} is stopped");
        }

        var servers = await run.Cluster.ServersAsync();
        ContainerCluster.Green.ShouldAllBe(n => servers[n].Serving);
        await run.Load.StopAsync();
        foreach (var operation in new[] { LoadOperations.Login, LoadOperations.Ping, LoadOperations.Http })
        {
            run.Load.Attempted(operation).ShouldBeGreaterThan(0, operation);
            run.Load.Failed(operation).ShouldBe(0, $"{operation}:\n{run.Load.Summary()}");
        }
    }
}
