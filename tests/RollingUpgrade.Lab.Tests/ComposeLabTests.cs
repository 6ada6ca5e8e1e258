using RollingUpgrade.Demo.Load;

namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// The lab a user brings up with `docker-compose up`: both plans in deploy/compose run end to end through
/// `docker-compose run rollingupgrade` while XMPP clients and HTTP requests go through HAProxy and the embedded
/// proxy, and `docker-compose down -v` leaves no container, volume or network behind.
/// </summary>
[Collection(nameof(Packages))]
public sealed class ComposeLabTests(Packages packages)
{
    private const string Haproxy = "172.30.0.2";
    private const string Proxy = "172.30.0.3";

    [DockerFact(Timeout = 1_800_000)]
    public async Task The_lab_upgrades_rolling_then_cuts_over_under_client_load_and_comes_down_leaving_nothing()
    {
        string project;
        await using (var lab = new ComposeLab(packages.SingleFile))
        {
            project = lab.Project;
            await lab.UpAsync();
            await lab.WaitReadyAsync(["ej1", "ej2", "ej3", "ej4", "ej5", "ej6"], TimeSpan.FromMinutes(5));
            await lab.WaitStartedAsync(["ej1", "ej2", "ej3"], TimeSpan.FromMinutes(2));

            await using var viaHaproxy = new LoadDriver();
            await using var viaProxy = new LoadDriver();
            viaHaproxy.Start(Haproxy, 5222, Users(1, 15), "localhost", 5280, "/api/status", 5);
            viaProxy.Start(Proxy, 15222, Users(16, 30), "localhost", 15280, "/api/status", 5);
            await viaHaproxy.WaitAllLoggedInAsync(15, TimeSpan.FromMinutes(2));
            await viaProxy.WaitAllLoggedInAsync(15, TimeSpan.FromMinutes(2));

            var rolling = await lab.RunAsync(Tool("rolling.toml"));
            rolling.Code.ShouldBe(0, rolling.Output);
            rolling.Output.ShouldContain("SUCCEEDED: lab runs 24.0");
            foreach (var node in new[] { "ej1", "ej2", "ej3" })
            {
                (await lab.RunAsync("exec", "-T", node, "ejabberdctl", "status")).Output.ShouldContain("ejabberd 24.0");
            }

            var parallel = await lab.RunAsync(Tool("parallel.toml"));
            parallel.Code.ShouldBe(0, parallel.Output);
            parallel.Output.ShouldContain("SUCCEEDED: lab-parallel runs 25.0");
            var cluster = await lab.RunAsync("exec", "-T", "ej4", "ejabberdctl", "list_cluster");
            foreach (var node in new[] { "ej4", "ej5", "ej6" })
            {
                cluster.Output.ShouldContain($"ejabberd@{node}");
            }

            cluster.Output.ShouldNotContain("ejabberd@ej1");

            await viaHaproxy.StopAsync();
            await viaProxy.StopAsync();
            foreach (var load in new[] { viaHaproxy, viaProxy })
            {
                foreach (var operation in new[] { LoadOperations.Login, LoadOperations.Ping, LoadOperations.Http })
                {
                    load.Attempted(operation).ShouldBeGreaterThan(0, operation);
                    load.Failed(operation).ShouldBe(0, $"{operation}:\n{load.Summary()}");
                }
            }
        }

        // Down with its volumes and images: nothing of the project is left on the daemon.
        foreach (var kind in new[] { "ps -a", "volume ls", "network ls" })
        {
            var (code, output) = await Packages.TryRunAsync(
                "docker",
                [.. kind.Split(' '), "-q", "--filter", $"label=com.docker.compose.project={project}"]
            );
            code.ShouldBe(0, output);
            output.Trim().ShouldBeEmpty($"docker {kind} after down");
        }
    }

    private static string[] Tool(string plan) =>
        ["run", "--rm", "rollingupgrade", "run", $"/plans/{plan}", "--state-dir", "/var/lib/rollingupgrade"];

    private static List<(string, string)> Users(int from, int to) =>
        Enumerable.Range(from, to - from + 1).Select(i => ($"user{i}", $"pw-user{i}")).ToList();
}
