using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Bench;

/// <summary>
/// The engine at scale: whole rolling runs of the CLI (a child process, file state) over 10, 100 and 1000 simulated
/// nodes (<see cref="SimulatedNodes"/>) in batches of 1, 10 and 50: wall time, time per node-step, the CLI's peak
/// memory (VmHWM), the journal's size, and how batches of 10 compare with batches of 1.
/// </summary>
internal static class ScaleBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The nodes' stop, install and start take no time (the control host's own work: every command is a process on
    /// this 2-core machine), then 200 ms each (a sleep: time on the node, not on this machine) up to 100 nodes.
    /// </summary>
    public static async Task<int> RunAsync(string repositoryRoot, IReadOnlyList<int> sizes, string? json)
    {
        var cli = StateStoreBench.CliDll(repositoryRoot);
        var spawn = SpawnCost();
        Console.WriteLine(string.Create(Inv, $"one `sh -c` command on this machine: median {spawn:0.0} ms"));
        var rows = new List<Row>();
        foreach (var operationMs in new[] { 0, 200 })
        {
            foreach (var nodes in sizes.Where(n => operationMs == 0 || n <= 100))
            {
                foreach (var batch in new[] { 1, 10, 50 }.Where(b => b < nodes))
                {
                    rows.Add(await RunOnceAsync(cli, nodes, batch, operationMs));
                }
            }
        }

        foreach (var row in rows)
        {
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"{row.Nodes} nodes, batch {row.Batch}, operations {row.OperationMs} ms: {row.Seconds:0.00} s, "
                        + $"{row.Steps} steps, "
                        + $"{row.Seconds * 1000 / row.NodeSteps:0.00} ms per node-step, "
                        + $"peak {row.PeakMiB:0} MiB, journal {row.JournalKiB:0} KiB ({row.Records} records), "
                        + $"most steps at once {row.Overlap}"
                )
            );
        }

        foreach (var group in rows.GroupBy(r => (r.Nodes, r.OperationMs)))
        {
            var one = group.FirstOrDefault(r => r.Batch == 1);
            var ten = group.FirstOrDefault(r => r.Batch == 10);
            if (one is not null && ten is not null)
            {
                Console.WriteLine(
                    string.Create(
                        Inv,
                        $"{group.Key.Nodes} nodes, operations {group.Key.OperationMs} ms: batches of 10 take "
                            + $"{ten.Seconds / one.Seconds:0.000} of the time of batches of 1"
                    )
                );
            }
        }

        if (json is not null)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { spawn_ms = spawn, rows }));
        }

        return 0;
    }

    /// <summary>
    /// The same runs behind a balancer: <c>rollingupgrade proxy</c> (a process of its own, of the given build) with
    /// every node as a destination (each node a listener of this process, health-checked every second), batches of
    /// 10, operations at once. Every drain then samples the other nodes' connections at the proxy, which is what made
    /// the journal grow with the square of the nodes.
    /// </summary>
    public static async Task<int> RunProxiedAsync(string repositoryRoot, IReadOnlyList<int> sizes, string? cliDll)
    {
        var cli = cliDll ?? StateStoreBench.CliDll(repositoryRoot);
        var rows = new List<Row>();
        foreach (var nodes in sizes)
        {
            var port = LoopbackPorts.Free();
            var listeners = Enumerable
                .Range(1, nodes)
                .Select(i => new TcpListener(IPAddress.Parse(SimulatedNodes.Host(i)), port))
                .ToList();
            using var stop = new CancellationTokenSource();
            var accepting = new List<Task>();
            foreach (var listener in listeners)
            {
                listener.Start(64);
                accepting.Add(AcceptAsync(listener, stop.Token));
            }

            var folder = Directory.CreateTempSubdirectory("ru-bench-scale-proxy-").FullName;
            var admin = LoopbackPorts.Free();
            var config = Path.Combine(folder, "proxy.toml");
            await File.WriteAllTextAsync(config, SimulatedNodes.ProxyConfig(nodes, port, admin, LoopbackPorts.Free()));
            using var proxy = ProxySessionsBench.StartProxyOf(cli, config);
            try
            {
                await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", admin, TimeSpan.FromSeconds(60));
                // Two health-check rounds, so that every destination is up before the run reads them.
                await Task.Delay(TimeSpan.FromSeconds(3));
                rows.Add(await RunOnceAsync(cli, nodes, batch: 10, operationMs: 0, $"127.0.0.1:{admin}"));
            }
            finally
            {
                proxy.Kill(entireProcessTree: true);
                await proxy.WaitForExitAsync();
                await stop.CancelAsync();
                listeners.ForEach(l => l.Stop());
                await Task.WhenAll(accepting);
                Directory.Delete(folder, recursive: true);
            }
        }

        foreach (var row in rows)
        {
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"{row.Nodes} nodes behind the proxy, batch {row.Batch}: {row.Seconds:0.00} s, peak "
                        + $"{row.PeakMiB:0} MiB, journal {row.JournalKiB:0} KiB ({row.Records} records, "
                        + $"{row.JournalKiB / row.Nodes:0.0} KiB per node)"
                )
            );
        }

        return 0;
    }

    /// <summary>Accepts and closes connections (the proxy's health checks) until stopped.</summary>
    private static async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptSocketAsync(stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    internal sealed record Row(
        int Nodes,
        int Batch,
        int OperationMs,
        double Seconds,
        int Steps,
        int NodeSteps,
        double PeakMiB,
        double JournalKiB,
        int Records,
        int Overlap
    );

    private static async Task<Row> RunOnceAsync(
        string cli,
        int nodes,
        int batch,
        int operationMs,
        string? proxyAdmin = null
    )
    {
        var root = Directory.CreateTempSubdirectory("ru-bench-scale-").FullName;
        try
        {
            var plan = SimulatedNodes.WritePlan(root, nodes, batch, operationMs, proxyAdmin);
            SimulatedNodes.Reset(root, nodes);
            var state = Path.Combine(root, "state");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { cli, "run", plan, "--output", "json", "--state-dir", state })
            {
                info.ArgumentList.Add(arg);
            }

            var watch = Stopwatch.StartNew();
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            var peak = 0L;
            while (!process.HasExited)
            {
                peak = Math.Max(peak, HighWaterKiB(process.Id));
                await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(50));
            }

            await process.WaitForExitAsync();
            watch.Stop();
            var text = await output;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{nodes} nodes, batch {batch}: the run exited {process.ExitCode}:\n{text}\n{await errors}"
                );
            }

            var journal = Directory.GetFiles(state, "*.jsonl", SearchOption.AllDirectories).Single();
            var records = File.ReadAllLines(journal).Where(l => l.Length > 0).ToList();
            var steps = records.Count(l => l.Contains("\"type\":\"step-succeeded\"", StringComparison.Ordinal));
            var nodeSteps = records.Count(l =>
                l.Contains("\"type\":\"step-succeeded\"", StringComparison.Ordinal)
                && (
                    l.Contains("\"id\":\"Stop:", StringComparison.Ordinal)
                    || l.Contains("\"id\":\"Start:", StringComparison.Ordinal)
                    || l.Contains("\"id\":\"Install:", StringComparison.Ordinal)
                    || l.Contains("\"id\":\"WaitDrained:", StringComparison.Ordinal)
                    || l.Contains("\"id\":\"VerifyNode:", StringComparison.Ordinal)
                )
            );
            return new Row(
                nodes,
                batch,
                operationMs,
                watch.Elapsed.TotalSeconds,
                steps,
                nodeSteps,
                peak / 1024.0,
                new FileInfo(journal).Length / 1024.0,
                records.Count,
                MostAtOnce(records)
            );
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The peak resident set of a live process so far (VmHWM), in KiB; 0 once it is gone.</summary>
    private static long HighWaterKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status")
                .FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The most steps under way at once, from the journal's starts and ends.</summary>
    private static int MostAtOnce(List<string> records)
    {
        var now = 0;
        var most = 0;
        foreach (var line in records)
        {
            if (line.Contains("\"type\":\"step-started\"", StringComparison.Ordinal))
            {
                most = Math.Max(most, ++now);
            }
            else if (
                line.Contains("\"type\":\"step-succeeded\"", StringComparison.Ordinal)
                || line.Contains("\"type\":\"step-failed\"", StringComparison.Ordinal)
            )
            {
                now--;
            }
        }

        return most;
    }

    private static double SpawnCost()
    {
        var times = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(new ProcessStartInfo("sh", ["-c", "true"]))!;
            process.WaitForExit();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }
}
