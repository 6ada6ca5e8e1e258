namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>A node's container is killed while the run starts the upgraded node.</summary>
public sealed class NodeKilledMidStartTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_halts_with_the_node_out_of_rotation_and_the_others_serving()
    {
        await using var run = await RunAsync(
            "kstart",
            async (cluster, steps, cli) =>
            {
                await StartedAsync(cli, steps[("Start", Faulted)]);
                await cluster.KillAsync(Faulted);
            }
        );

        await EndedSafeAsync(run, "Start");
    }
}
