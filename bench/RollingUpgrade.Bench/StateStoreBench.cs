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
    public static async Task<int> RunAsync(int appends)
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
        return 0;
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
