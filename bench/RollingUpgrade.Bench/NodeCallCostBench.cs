using System.Diagnostics;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// What one call to a node costs on the rolling-upgrade harness (SSH to 127.0.0.11, ejabberd
/// 23.01): SSH connections and commands, ejabberdctl calls, the same questions over ejabberd's HTTP
/// API and the distribution probe, and the stop and start of the node. These are the parts the orchestrator's overhead
/// is made of.
/// </summary>
internal static class NodeCallCostBench
{
    public static async Task<int> RunAsync(string repositoryRoot, int rounds)
    {
        await using var harness = await UpgradeHarness.StartAsync(users: 2);
        var plan = PlanLoader.Load(File.ReadAllText(harness.WritePlan(repositoryRoot)), "plan.toml").Plan!;
        using var shells = new ShellFactory(plan);
        var product = new EjabberdProduct(plan, shells, TimeProvider.System);
        var node = plan.Nodes[0];
        var ctl = new ControlCommand(plan, shells);
        var options = new Ports.CommandOptions(TimeSpan.FromSeconds(10), false);
        async Task ConnectAndRunAsync(IEnumerable<Plans.Model.NodeSpec> nodes)
        {
            using var fresh = new ShellFactory(plan);
            await Task.WhenAll(
                nodes.Select(async n =>
                {
                    await using var s = fresh.For(n);
                    await s.RunAsync(["true"], options, CancellationToken.None);
                })
            );
        }

        var firstConnect = Stopwatch.StartNew();
        await ConnectAndRunAsync([node]);
        firstConnect.Stop();
        var rows = new List<(string, TimeSpan)>
        {
            ("SSH connect + `true`, first in the process", firstConnect.Elapsed),
            ("SSH connect + `true`", await MedianAsync(rounds, () => ConnectAndRunAsync([node]))),
            (
                "SSH connect + `true` to three nodes at once",
                await MedianAsync(rounds, () => ConnectAndRunAsync(plan.Nodes))
            ),
            (
                "SSH command `true`",
                await MedianAsync(
                    rounds,
                    async () =>
                    {
                        await using var s = shells.For(node);
                        await s.RunAsync(
                            ["true"],
                            new Ports.CommandOptions(TimeSpan.FromSeconds(10), false),
                            CancellationToken.None
                        );
                    }
                )
            ),
            (
                "ejabberdctl status over SSH",
                await MedianAsync(rounds, () => ctl.RunAsync(node, ["status"], CancellationToken.None))
            ),
            (
                "HTTP API status (with the version)",
                await MedianAsync(rounds, () => product.StatusAsync(node, CancellationToken.None))
            ),
            (
                "ejabberdctl mnesia info over SSH",
                await MedianAsync(rounds, () => ctl.RunAsync(node, ["mnesia", "info"], CancellationToken.None))
            ),
            (
                "HTTP API mnesia_info (membership)",
                await MedianAsync(rounds, () => product.MembershipAsync(node, CancellationToken.None))
            ),
            (
                "HTTP API stats onlineusersnode",
                await MedianAsync(rounds, () => product.SessionCountAsync(node, CancellationToken.None))
            ),
        };

        var stop = new List<TimeSpan>();
        var stopped = new List<TimeSpan>();
        var probed = new List<TimeSpan>();
        var start = new List<TimeSpan>();
        for (var i = 0; i < Math.Max(1, rounds / 4); i++)
        {
            var watch = Stopwatch.StartNew();
            await ctl.RunTemplateAsync(node, plan.Product.Stop!, CancellationToken.None);
            stop.Add(watch.Elapsed);
            watch.Restart();
            await ctl.RunAsync(node, ["status"], CancellationToken.None);
            stopped.Add(watch.Elapsed);
            watch.Restart();
            (await product.StatusAsync(node, CancellationToken.None)).State.ShouldBeStopped();
            probed.Add(watch.Elapsed);
            watch.Restart();
            await product.StartAsync(node, CancellationToken.None);
            start.Add(watch.Elapsed);
        }

        rows.Add(("stop command (SIGTERM, wait for exit) over SSH", Median(stop)));
        rows.Add(("ejabberdctl status of a stopped node", Median(stopped)));
        rows.Add(("status of a stopped node (API refused, distribution port refused)", Median(probed)));
        rows.Add(("start command, then wait for started (API polls)", Median(start)));
        Console.WriteLine("| call | median |");
        Console.WriteLine("|---|---|");
        foreach (var (name, time) in rows)
        {
            Console.WriteLine($"| {name} | {time.TotalMilliseconds:0} ms |");
        }

        return 0;
    }

    private static async Task<TimeSpan> MedianAsync(int rounds, Func<Task> call)
    {
        await call();
        var times = new List<TimeSpan>();
        for (var i = 0; i < rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            await call();
            times.Add(watch.Elapsed);
        }

        return Median(times);
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    private static void ShouldBeStopped(this Ports.NodeRunState state)
    {
        if (state != Ports.NodeRunState.Stopped)
        {
            throw new InvalidOperationException($"the stopped node reads {state}");
        }
    }
}
