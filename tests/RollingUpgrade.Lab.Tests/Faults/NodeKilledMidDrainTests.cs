namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>A node's container is killed (SIGKILL, the host vanishes) while the run waits for its connections.</summary>
public sealed class NodeKilledMidDrainTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_halts_with_the_node_out_of_rotation_and_the_others_serving()
    {
        await using var run = await RunAsync(
            "kdrain",
            async (cluster, steps, cli) =>
            {
                await StartedAsync(cli, steps[("WaitDrained", Faulted)]);
                await cluster.KillAsync(Faulted);
            }
        );

        await EndedSafeAsync(run, "WaitDrained", "Stop");
    }
}
