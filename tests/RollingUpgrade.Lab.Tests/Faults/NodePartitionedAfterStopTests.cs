namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>A node is disconnected from the network (a partition) right after the run stopped it.</summary>
public sealed class NodePartitionedAfterStopTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_halts_with_the_node_stopped_out_of_rotation_and_the_others_serving()
    {
        await using var run = await RunAsync(
            "parta",
            async (cluster, steps, cli) =>
            {
                await SucceededAsync(cli, steps[("Stop", Faulted)]);
                await cluster.DisconnectAsync(Faulted);
            }
        );

        await EndedSafeAsync(run, "BackupConfig", "Install", "Start");
    }
}
