using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// Against a real HAProxy on loopback: (1) after a drained server's last client closes, how long
/// until a poller at the engine's interval sees zero live connections; (2) what one poll costs.
/// </summary>
internal static class HAProxyDrainBench
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(string[] args)
    {
        var trials = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        var folder = Directory.CreateTempSubdirectory("ru-bench-").FullName;
        await using var backends = new BackendServers([
            ("ej1", "127.0.0.11"),
            ("ej2", "127.0.0.12"),
            ("ej3", "127.0.0.13"),
        ]);
        using var haproxy = new HAProxyInstance(folder, "a", backends, ["ej1", "ej2", "ej3"]);
        var (nodes, adapter) = Edge(haproxy, ["ej1", "ej2", "ej3"]);
        await Task.Delay(1500);

        var lags = new List<double>();
        var random = new Random(7);
        for (var trial = 0; trial < trials; trial++)
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", haproxy.TcpFrontendPort);
            var buffer = new byte[64];
            var read = await client.GetStream().ReadAsync(buffer);
            var server = System
                .Text.Encoding.ASCII.GetString(buffer, 0, read)
                .Trim()
                .Replace("hello-from-", string.Empty, StringComparison.Ordinal);
            var node = nodes.First(n => n.IdIn("edge") == server);
            await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);

            // The engine polls on a fixed interval; the client leaves at a random moment within it.
            var poller = Task.Run(async () =>
            {
                while (true)
                {
                    var live = (await adapter.ReadAsync([node], CancellationToken.None)).Single().LiveConnections;
                    if (live == 0)
                    {
                        return Stopwatch.GetTimestamp();
                    }

                    await Task.Delay(PollInterval);
                }
            });
            await Task.Delay(TimeSpan.FromMilliseconds(1500 + random.Next(0, 1000)));
            var closedAt = Stopwatch.GetTimestamp();
            client.Close();
            var seenAt = await poller;
            lags.Add(Stopwatch.GetElapsedTime(closedAt, seenAt).TotalMilliseconds);
            await adapter.SetStateAsync(node, ServerAdminState.Ready, CancellationToken.None);
        }

        // Cost of one poll: 'show stat' + 'show servers state' over the unix socket, parsed.
        const int polls = 500;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < polls; i++)
        {
            await adapter.ReadAsync(nodes, CancellationToken.None);
        }

        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        lags.Sort();
        Console.WriteLine($"haproxy-drain: {trials} trials, poll interval {PollInterval.TotalMilliseconds:0} ms");
        Console.WriteLine(
            $"  last client closed -> adapter sees 0: median {Percentile(lags, 50):0} ms, p95 "
                + $"{Percentile(lags, 95):0} ms, max {lags[^1]:0} ms ({lags[^1] / PollInterval.TotalMilliseconds:0.00} "
                + $"poll intervals)"
        );
        Console.WriteLine(
            $"  one poll (3 nodes, 2 backends): {watch.Elapsed.TotalMilliseconds / polls:0.00} ms wall, "
                + $"{cpu.TotalMilliseconds / polls:0.000} ms CPU"
        );
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    /// <summary>
    /// The plan's nodes for HAProxy's servers (n1 on 127.0.0.11 is <paramref name="servers"/>[0], ...) and the adapter
    /// for the instance's backends.
    /// </summary>
    internal static (List<NodeSpec> Nodes, HAProxyLoadBalancer Adapter) Edge(
        HAProxyInstance haproxy,
        IReadOnlyList<string> servers
    )
    {
        var nodes = servers
            .Select(
                (s, i) =>
                    new NodeSpec(
                        $"n{i + 1}",
                        $"127.0.0.{11 + i}",
                        $"e{i + 1}@h",
                        new Dictionary<string, string> { ["edge"] = s }
                    )
            )
            .ToList();
        var adapter = new HAProxyLoadBalancer(
            new LoadBalancerSpec(
                "edge",
                LoadBalancerKinds.HAProxy,
                new HAProxySettings([haproxy.SocketPath], ["be_xmpp", "be_http"], TimeSpan.FromSeconds(10))
            )
        );
        return (nodes, adapter);
    }

    private static double Percentile(List<double> sorted, int p) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
}
