using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// Through a real HAProxy: weight never moves onto servers that take nothing. Green servers left
/// in maintenance (a new run after a rollback, or started that way) are made ready first; one that
/// fails its health check stops the cutover with no weight on it, and traffic stays on blue.
/// </summary>
public sealed class WeightSafetyTests
{
    private static readonly string[] Names = ["n1", "n2", "g1", "g2"];

    private static async Task SetAsync(HAProxyRuntimeClient runtime, string command)
    {
        foreach (var backend in new[] { "be_http", "be_xmpp" })
        {
            await runtime.ExecuteMutationAsync(
                command.Replace("BACKEND", backend, StringComparison.Ordinal),
                CancellationToken.None
            );
        }
    }

    private static async Task<string> StateAsync(HAProxyRuntimeClient runtime, string server) =>
        await runtime.ExecuteAsync($"get weight be_http/{server}", CancellationToken.None);

    [Fact(Timeout = 120_000)]
    public async Task Green_servers_in_maintenance_are_made_ready_before_they_take_weight()
    {
        using var cluster = new LocalCluster(nodes: 4);
        await using var backends = new BackendServers(Names.Select((n, i) => (n, $"127.0.0.{11 + i}")).ToList());
        using var haproxy = new HAProxyInstance(cluster.Root, "haproxy", backends, Names);
        var runtime = new HAProxyRuntimeClient(new HAProxyEndpoint(haproxy.SocketPath), TimeSpan.FromSeconds(5));
        await SetAsync(runtime, "set server BACKEND/g1 state maint");
        await SetAsync(runtime, "set server BACKEND/g2 state maint");
        File.WriteAllText(
            cluster.PlanPath,
            RollbackVersionTests.ParallelPlan(
                cluster,
                haproxy.SocketPath,
                Path.Combine(cluster.Root, "log"),
                gateFailsAt100: false
            )
        );

        var result = await CliRunner.RunAsync("run", cluster.PlanPath);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        result.Output.ShouldContain("g1 is maintenance", customMessage: result.Output);
        result.Output.ShouldContain("in edge; setting it ready before it takes weight", customMessage: result.Output);
        (await StateAsync(runtime, "g1")).ShouldNotStartWith("0 ");
        var stat = (await runtime.ExecuteAsync("show stat", CancellationToken.None)).Split('\n');
        stat.Single(l => l.StartsWith("be_http,g1,", StringComparison.Ordinal)).ShouldNotContain(",MAINT");
        stat.Single(l => l.StartsWith("be_http,g2,", StringComparison.Ordinal)).ShouldNotContain(",MAINT");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_green_server_that_fails_its_health_check_gets_no_weight_and_traffic_stays_on_blue()
    {
        using var cluster = new LocalCluster(nodes: 4);
        await using var backends = new BackendServers(Names.Select((n, i) => (n, $"127.0.0.{11 + i}")).ToList());
        using var haproxy = new HAProxyInstance(cluster.Root, "haproxy", backends, Names);
        var runtime = new HAProxyRuntimeClient(new HAProxyEndpoint(haproxy.SocketPath), TimeSpan.FromSeconds(5));
        await SetAsync(runtime, "set server BACKEND/g1 state maint");
        await backends["g1"].DisposeAsync();
        File.WriteAllText(
            cluster.PlanPath,
            RollbackVersionTests.ParallelPlan(
                cluster,
                haproxy.SocketPath,
                Path.Combine(cluster.Root, "log"),
                gateFailsAt100: false
            )
        );

        var result = await CliRunner.RunAsync("run", cluster.PlanPath);

        result.ExitCode.ShouldBe(1, result.Output + result.Error);
        (result.Output + result.Error).ShouldContain("ROLLED BACK");
        (result.Output + result.Error).ShouldContain("g1");
        (await StateAsync(runtime, "g1")).ShouldStartWith("0 ");
        (await StateAsync(runtime, "g2")).ShouldStartWith("0 ");
        (await StateAsync(runtime, "n1")).ShouldNotStartWith("0 ");
        (await StateAsync(runtime, "n2")).ShouldNotStartWith("0 ");
    }
}
