namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// A node's container is paused (a hung host: its addresses answer, nothing on it runs) as the run starts it and
/// polls its status: commands and status calls hang and must time out.
/// </summary>
public sealed class NodePausedTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_times_out_and_halts_with_the_node_out_of_rotation_and_the_others_serving()
    {
        await using var run = await RunAsync(
            "pause",
            async (cluster, steps, cli) =>
            {
                await StartedAsync(cli, steps[("Start", Faulted)]);
                await cluster.PauseAsync(Faulted);
            }
        );

        await EndedSafeAsync(run, "Start");
    }
}
