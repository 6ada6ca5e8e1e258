using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// The embedded proxy against HAProxy 2.6 on the same machine and backend: wrk over loopback with
/// the same connection count, throughput and p99 latency, as ratios.
/// </summary>
internal static partial class ProxyThroughputBench
{
    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex Rps();

    [GeneratedRegex(@"99%\s+([\d.]+)(us|ms|s)")]
    private static partial Regex P99();

    public static async Task<int> RunAsync(string[] args)
    {
        var connections = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var folder = Directory.CreateTempSubdirectory("ru-wrk-").FullName;
        var httpPort = LoopbackPorts.Free("127.0.0.51");
        var tcpPort = LoopbackPorts.Free("127.0.0.51");
        await using var backend = new DemoNode("backend", "127.0.0.51", httpPort, tcpPort, "1.0");
        await backend.StartAsync();
        using var haproxy = new HAProxyInstance(
            folder,
            "haproxy",
            [("b1", "127.0.0.51")],
            tcpPort,
            httpPort,
            xmppChecks: false
        );
        var yarpPort = LoopbackPorts.Free();
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "bench",
                    [new DestinationOptions("b1", "127.0.0.51", httpPort, tcpPort, 100)],
                    TimeSpan.FromSeconds(1)
                ),
            ],
            [new ListenerOptions(ListenerKind.Http, new IPEndPoint(IPAddress.Loopback, yarpPort), "bench")]
        );
        await using var yarp = EmbeddedProxy.Build(options);
        await yarp.StartAsync();
        await Task.Delay(1500);

        // Warm both up, then measure each twice, alternating.
        await WrkAsync(haproxy.HttpFrontendPort, connections, 3);
        await WrkAsync(yarpPort, connections, 3);
        var results = new List<(string Name, double Rps, double P99)>();
        for (var round = 0; round < 2; round++)
        {
            var (hRps, hP99) = await WrkAsync(haproxy.HttpFrontendPort, connections, seconds);
            results.Add(("haproxy", hRps, hP99));
            var (yRps, yP99) = await WrkAsync(yarpPort, connections, seconds);
            results.Add(("yarp", yRps, yP99));
        }

        var h = (
            Rps: results.Where(r => r.Name == "haproxy").Average(r => r.Rps),
            P99: results.Where(r => r.Name == "haproxy").Average(r => r.P99)
        );
        var y = (
            Rps: results.Where(r => r.Name == "yarp").Average(r => r.Rps),
            P99: results.Where(r => r.Name == "yarp").Average(r => r.P99)
        );
        Console.WriteLine($"wrk -t2 -c{connections} -d{seconds}s, same backend (Kestrel on 127.0.0.51), 2 rounds each");
        Console.WriteLine($"| proxy | requests/s | p99 latency |");
        Console.WriteLine($"|---|---|---|");
        Console.WriteLine($"| HAProxy 2.6 | {h.Rps:0} | {h.P99:0.00} ms |");
        Console.WriteLine($"| embedded YARP proxy | {y.Rps:0} | {y.P99:0.00} ms |");
        Console.WriteLine(
            $"throughput ratio yarp/haproxy = {y.Rps / h.Rps:0.00} (target >= 0.5); p99 ratio = {y.P99 / h.P99:0.00} "
                + $"(target <= 2)"
        );
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    private static async Task<(double Rps, double P99)> WrkAsync(int port, int connections, int seconds)
    {
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (
            var arg in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency", $"http://127.0.0.1:{port}/" }
        )
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var rps = double.Parse(Rps().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99().Match(text);
        var value = double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture);
        var ms = p99.Groups[2].Value switch
        {
            "us" => value / 1000,
            "s" => value * 1000,
            _ => value,
        };
        return (rps, ms);
    }
}
