namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>A node is disconnected from the network (a partition) while the run waits for its connections.</summary>
public sealed class NodePartitionedBeforeStopTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_halts_before_the_stop_with_the_node_out_of_rotation_and_the_others_serving()
    {
        await using var run = await RunAsync(
            "partb",
            async (cluster, steps, cli) =>
            {
                await StartedAsync(cli, steps[("WaitDrained", Faulted)]);
                await cluster.DisconnectAsync(Faulted);
            }
        );

        await EndedSafeAsync(run, "WaitDrained", "Stop");
    }
}
