namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// HAProxy is killed and started again while the run waits for a drained node's connections: its runtime state is
/// lost and the node is back in rotation. The run must see it and drain the node again before it stops it.
/// </summary>
public sealed class HAProxyRestartedTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_drains_the_node_again_before_stopping_it_and_finishes()
    {
        int stop = 0;
        await using var run = await RunAsync(
            "harestart",
            async (cluster, steps, cli) =>
            {
                stop = steps[("Stop", Faulted)];
                await StartedAsync(cli, steps[("WaitDrained", Faulted)]);
                await cluster.RestartHAProxyAsync();
            }
        );

        run.Code.ShouldBe(0, run.Output);
        run.Output.ShouldContain($"SUCCEEDED: {run.Cluster.Name} runs 24.0");
        var lines = run.Output.Split('\n');
        var drainedAgain = Array.FindIndex(lines, l => l.Contains($"{Faulted} is back in rotation in haproxy"));
        var stopped = Array.FindIndex(
            lines,
            l => l.Contains($" [{stop}/") && l.EndsWith(" ...", StringComparison.Ordinal)
        );
        drainedAgain.ShouldBeGreaterThan(-1, run.Output);
        drainedAgain.ShouldBeLessThan(stopped, "drained again before the stop");
        var servers = await run.Cluster.ServersAsync();
        ContainerCluster.Nodes.ShouldAllBe(n => servers[n].Ready);
    }
}
