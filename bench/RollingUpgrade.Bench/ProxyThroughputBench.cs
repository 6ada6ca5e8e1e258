using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// The embedded proxy against HAProxy 2.6 on the same machine and backend: wrk over loopback with the same connection
/// count, throughput and p99 latency, as ratios. The proxy is measured as operators run it (`rollingupgrade proxy`, a
/// process of its own, as HAProxy is) and as `demo` embeds it (in this process, beside the backend).
/// </summary>
internal static partial class ProxyThroughputBench
{
    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex Rps();

    [GeneratedRegex(@"99%\s+([\d.]+)(us|ms|s)")]
    private static partial Regex P99();

    public static async Task<int> RunAsync(string repositoryRoot, string[] args)
    {
        var connections = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;

        // Another build of the CLI to measure beside this one (before and after a change), as its own process too.
        var otherDll = args.Length > 3 ? Path.GetFullPath(args[3]) : null;
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
        var embeddedPort = LoopbackPorts.Free();
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "bench",
                    [new DestinationOptions("b1", "127.0.0.51", httpPort, tcpPort, 100)],
                    TimeSpan.FromSeconds(1)
                ),
            ],
            [new ListenerOptions(ListenerKind.Http, new IPEndPoint(IPAddress.Loopback, embeddedPort), "bench")]
        );
        await using var embedded = EmbeddedProxy.Build(options);
        await embedded.StartAsync();
        using var process = StartProxyProcess(
            StateStoreBench.CliDll(repositoryRoot),
            folder,
            httpPort,
            out var processPort
        );
        var otherPort = 0;
        using var other = otherDll is null ? null : StartProxyProcess(otherDll, folder, httpPort, out otherPort);
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", processPort, TimeSpan.FromSeconds(30));
            if (other is not null)
            {
                await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", otherPort, TimeSpan.FromSeconds(30));
            }

            await Task.Delay(1500);
            // The CPU each proxy process spends per request is read from /proc (not for the embedded one: the bench's
            // process also runs the backend).
            var proxies = new (string Name, int Port, int? Pid)[]
            {
                ("HAProxy 2.6 (own process)", haproxy.HttpFrontendPort, haproxy.ProcessId),
                ("`rollingupgrade proxy` (own process)", processPort, process.Id),
                ("embedded proxy (in the bench's process, as `demo` runs it)", embeddedPort, null),
            };
            if (other is not null)
            {
                proxies = [.. proxies, ($"`rollingupgrade proxy` of {otherDll} (own process)", otherPort, other.Id)];
            }

            // Warm each up (as long as a round: .NET compiles its hot paths again after a while), then measure each
            // `rounds` times, alternating; the median of each is reported.
            foreach (var (_, port, _) in proxies)
            {
                await WrkAsync(port, connections, seconds);
            }

            var results = proxies.ToDictionary(p => p.Name, _ => new List<(double Rps, double P99)>());
            var cpu = proxies.ToDictionary(p => p.Name, _ => new List<double>());
            for (var round = 0; round < rounds; round++)
            {
                foreach (var (name, port, pid) in proxies)
                {
                    var before = pid is { } p ? CpuSeconds(p) : 0;
                    var run = await WrkAsync(port, connections, seconds);
                    results[name].Add(run);
                    if (pid is { } after)
                    {
                        cpu[name].Add((CpuSeconds(after) - before) * 1e6 / (run.Rps * seconds));
                    }
                }
            }

            Console.WriteLine(
                $"wrk -t2 -c{connections} -d{seconds}s --latency, same backend (Kestrel on 127.0.0.51), "
                    + $"median of {rounds} rounds each"
            );
            Console.WriteLine(
                "| proxy | requests/s | p99 latency | requests/s vs HAProxy | p99 vs HAProxy | proxy CPU per request |"
            );
            Console.WriteLine("|---|---|---|---|---|---|");
            var (hRps, hP99) = Median(results[proxies[0].Name]);
            foreach (var (name, _, _) in proxies)
            {
                var (rps, p99) = Median(results[name]);
                var perRequest =
                    cpu[name].Count == 0 ? "-" : $"{cpu[name].Order().ElementAt(cpu[name].Count / 2):0} us";
                Console.WriteLine(
                    $"| {name} | {rps:0} | {p99:0.00} ms | {rps / hRps:0.00} | {p99 / hP99:0.00} | {perRequest} |"
                );
            }

            Console.WriteLine(
                "every round: "
                    + string.Join(
                        "; ",
                        results.Select(r =>
                            $"{r.Key}: " + string.Join(", ", r.Value.Select(v => $"{v.Rps:0}/s {v.P99:0.00} ms"))
                        )
                    )
            );
        }
        finally
        {
            foreach (var started in new[] { process, other })
            {
                if (started is not null)
                {
                    started.Kill(entireProcessTree: true);
                    await started.WaitForExitAsync();
                }
            }
        }

        Directory.Delete(folder, recursive: true);
        return 0;
    }

    /// <summary>User and system CPU time of a process so far (/proc/PID/stat, clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (
                long.Parse(fields[11], CultureInfo.InvariantCulture)
                + long.Parse(fields[12], CultureInfo.InvariantCulture)
            ) / 100.0;
    }

    private static (double Rps, double P99) Median(List<(double Rps, double P99)> runs)
    {
        var rps = runs.Select(r => r.Rps).Order().ToList();
        var p99 = runs.Select(r => r.P99).Order().ToList();
        return (rps[rps.Count / 2], p99[p99.Count / 2]);
    }

    /// <summary>The proxy as operators run it: <c>rollingupgrade proxy --config FILE</c>, its own process.</summary>
    private static Process StartProxyProcess(string cliDll, string folder, int backendPort, out int port)
    {
        port = LoopbackPorts.Free();
        var config = Path.Combine(folder, $"proxy-{port}.toml");
        File.WriteAllText(
            config,
            $"""
            [admin]
            listen = "127.0.0.1:{LoopbackPorts.Free()}"

            [[clusters]]
            name = "bench"
            health_interval = "1s"

            [[clusters.destinations]]
            name = "b1"
            host = "127.0.0.51"
            http_port = {backendPort}

            [[listeners]]
            kind = "http"
            listen = "127.0.0.1:{port}"
            cluster = "bench"

            """
        );
        return ProxySessionsBench.StartProxyOf(cliDll, config);
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
