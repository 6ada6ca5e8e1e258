namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// The node's sshd session is killed while the install command runs over it: the command's outcome is unknown
/// (no exit status came back).
/// </summary>
public sealed class SshdKilledMidCommandTests(ITestOutputHelper output) : ContainerScenario(output)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_run_halts_with_the_node_out_of_rotation_and_the_others_serving()
    {
        var killed = 0;
        await using var run = await RunAsync(
            "sshd",
            async (cluster, steps, cli) =>
            {
                await StartedAsync(cli, steps[("Install", Faulted)]);
                await Task.Delay(1500);
                killed = await cluster.KillSshSessionsAsync(Faulted);
            },
            installDelaySeconds: 5
        );

        killed.ShouldBeGreaterThan(0, "no sshd session was running the install");
        await EndedSafeAsync(run, "Install");
    }
}
