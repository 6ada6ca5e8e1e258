using System.Diagnostics;
using RollingUpgrade.Journaling;
using RollingUpgrade.State.Postgres;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// The cost of one journal append on each state backend (the file journal, fsynced; PostgreSQL, fenced by the
/// lease epoch and committed) and of one lease renewal, with the same records, on this machine.
/// </summary>
internal static class StateStoreBench
{
    public static async Task<int> RunAsync(string repositoryRoot, int appends)
    {
        var records = Enumerable
            .Range(1, appends)
            .Select(i => new JournalRecord
            {
                Sequence = i,
                At = DateTimeOffset.UtcNow,
                Type = JournalTypes.StepSucceeded,
                RunId = "bench",
                Step = i,
                Message = $"step {i} done",
                Data = new() { ["node"] = "mim-2", ["detail"] = "0 connection(s) at the load balancers" },
            })
            .ToList();

        var folder = Directory.CreateTempSubdirectory("ru-bench-state-").FullName;
        try
        {
            using var journal = Journal.Open(
                Path.Combine(folder, "bench.jsonl"),
                TimeProvider.System,
                new SecretRedactor()
            );
            var file = Time(records, r => journal.Append(r));
            Report("file journal append (fsync)", file);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        await using var server = await PostgresServer.StartAsync("127.0.0.1");
        await using var store = await PostgresStateStore.OpenAsync(server.ConnectionString);
        var lease = (
            await store.AcquireAsync(
                "bench",
                new LeaseHolder("bench", "localhost", Environment.ProcessId, "bench"),
                TimeSpan.FromMinutes(5),
                false
            )
        ).Lease!;
        var postgres = await TimeAsync(records, r => store.AppendAsync(lease, r));
        Report("PostgreSQL journal append (fenced, committed)", postgres);
        var renew = await TimeAsync(records, _ => lease.RenewAsync());
        Report("PostgreSQL lease renewal", renew);
        await lease.ReleaseAsync();
        await WholeRunAsync(CliDll(repositoryRoot), server, nodes: 20, trials: 3);
        return 0;
    }

    /// <summary>
    /// The same rolling run (the CLI as a child process, generic product, local nodes that are folders, no load
    /// balancer, so the run's own work is all there is) on each backend, alternating, median wall time.
    /// </summary>
    private static async Task WholeRunAsync(string cli, PostgresServer server, int nodes, int trials)
    {
        var root = Directory.CreateTempSubdirectory("ru-bench-run-").FullName;
        const string variable = "RU_BENCH_STATE_URL";
        try
        {
            var plan = SimulatedNodes.WritePlan(root, nodes, batch: 1);
            var times = new Dictionary<string, List<double>> { ["file"] = [], ["postgres"] = [] };
            var steps = 0;
            for (var trial = 0; trial < trials; trial++)
            {
                foreach (var backend in times.Keys)
                {
                    SimulatedNodes.Reset(root, nodes);
                    string[] state =
                        backend == "file"
                            ? ["--state-dir", Path.Combine(root, $"state-{trial}")]
                            : ["--state-url-env", variable];
                    var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
                    foreach (var arg in new[] { cli, "run", plan, "--output", "json" }.Concat(state))
                    {
                        info.ArgumentList.Add(arg);
                    }

                    info.Environment[variable] = server.ConnectionString;
                    var watch = Stopwatch.StartNew();
                    using var process = Process.Start(info)!;
                    var output = await process.StandardOutput.ReadToEndAsync();
                    await process.WaitForExitAsync();
                    watch.Stop();
                    if (process.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"{backend} run exited {process.ExitCode}:\n{output}");
                    }

                    steps = output
                        .Split('\n')
                        .Count(l => l.Contains("\"type\":\"step-succeeded\"", StringComparison.Ordinal));
                    times[backend].Add(watch.Elapsed.TotalSeconds);
                }
            }

            foreach (var (backend, list) in times)
            {
                var inv = System.Globalization.CultureInfo.InvariantCulture;
                var median = list.Order().ElementAt(list.Count / 2);
                var runs = string.Join(", ", list.Select(t => t.ToString("0.00", inv)));
                Console.WriteLine(
                    string.Create(
                        inv,
                        $"whole rolling run, {nodes} nodes, {steps} steps, {backend} state: median {median:0.00} s "
                            + $"(runs: {runs} s)"
                    )
                );
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The CLI as built in Release (`dotnet build -c Release src/RollingUpgrade.Cli`).</summary>
    internal static string CliDll(string repositoryRoot)
    {
        var dll = Path.Combine(
            repositoryRoot,
            "src",
            "RollingUpgrade.Cli",
            "bin",
            "Release",
            "net10.0",
            "rollingupgrade.dll"
        );
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException(
                $"{dll} is missing: run `dotnet build -c Release src/RollingUpgrade.Cli` first"
            );
    }

    private static List<double> Time(IEnumerable<JournalRecord> records, Action<JournalRecord> act)
    {
        var times = new List<double>();
        foreach (var record in records)
        {
            var watch = Stopwatch.StartNew();
            act(record);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    private static async Task<List<double>> TimeAsync(IEnumerable<JournalRecord> records, Func<JournalRecord, Task> act)
    {
        var times = new List<double>();
        foreach (var record in records)
        {
            var watch = Stopwatch.StartNew();
            await act(record);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    private static void Report(string what, List<double> times)
    {
        // The first call pays for connecting and JIT; it is reported apart from the steady state.
        var steady = times.Skip(1).Order().ToList();
        double P(double q) => steady[Math.Min(steady.Count - 1, (int)(q * steady.Count))];
        Console.WriteLine(
            string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{what}: n={steady.Count} median {P(0.5):0.00} ms, p95 {P(0.95):0.00} ms, max {steady[^1]:0.00} ms "
                    + $"(first call {times[0]:0.00} ms)"
            )
        );
    }
}
