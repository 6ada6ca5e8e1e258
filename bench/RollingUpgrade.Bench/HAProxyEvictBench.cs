using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// A drained server with thousands of live sessions in a real HAProxy, evicted by the adapter as a drain does (a share
/// every 100 ms): the rate achieved, what each eviction call costs, and the live count HAProxy reports against the
/// clients really still connected. Needs 2 x sessions open files here and in HAProxy.
/// </summary>
internal static class HAProxyEvictBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(int sessions, int rate)
    {
        var folder = Directory.CreateTempSubdirectory("ru-bench-evict-").FullName;
        await using var backends = new BackendServers([("ej1", "127.0.0.11"), ("ej2", "127.0.0.12")]);
        using var haproxy = new HAProxyInstance(folder, "a", backends, ["ej1", "ej2"]);
        var (nodes, adapter) = HAProxyDrainBench.Edge(haproxy, ["ej1", "ej2"]);
        await Task.Delay(1500);
        var (target, other) = (nodes[0], nodes[1]);
        await adapter.SetStateAsync(other, ServerAdminState.Maintenance, CancellationToken.None);

        var clients = new List<TcpClient>();
        try
        {
            var open = Stopwatch.StartNew();
            var opening = new SemaphoreSlim(100);
            clients.AddRange(
                await Task.WhenAll(
                    Enumerable
                        .Range(0, sessions)
                        .Select(async _ =>
                        {
                            await opening.WaitAsync();
                            try
                            {
                                return await OpenAsync(haproxy.TcpFrontendPort);
                            }
                            finally
                            {
                                opening.Release();
                            }
                        })
                )
            );
            open.Stop();
            await adapter.SetStateAsync(other, ServerAdminState.Ready, CancellationToken.None);
            await adapter.SetStateAsync(target, ServerAdminState.Drain, CancellationToken.None);
            var live = (await adapter.ReadAsync([target], CancellationToken.None)).Single().LiveConnections;
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"{sessions} sessions opened through HAProxy to ej1 in {open.Elapsed.TotalSeconds:0.0} s (each "
                        + $"greeted by the backend); HAProxy counts {live} live on ej1, which is now drained"
                )
            );

            var closed = clients.Select(WatchClosedAsync).ToList();
            var perTick = Math.Max(1, rate / 10);
            var calls = new List<double>();
            var evict = Stopwatch.StartNew();
            var evicted = 0L;
            var worst = 0L;
            while (closed.Any(c => !c.IsCompleted))
            {
                var tick = Task.Delay(100);
                if (evicted < sessions)
                {
                    var call = Stopwatch.StartNew();
                    evicted += await adapter.EvictAsync(target, perTick, CancellationToken.None);
                    calls.Add(call.Elapsed.TotalMilliseconds);
                }

                await tick;
                var reported = (await adapter.ReadAsync([target], CancellationToken.None)).Single().LiveConnections;
                var really = closed.Count(c => !c.IsCompleted);
                worst = Math.Max(worst, Math.Abs(reported - really));
                if (evict.Elapsed > TimeSpan.FromMinutes(5))
                {
                    Console.WriteLine($"gave up after 5 minutes with {really} still open");
                    break;
                }
            }

            evict.Stop();
            calls.Sort();
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"evicted {evicted} at {perTick} per 100 ms ({rate}/s asked): all closed in "
                        + $"{evict.Elapsed.TotalSeconds:0.0} s ({sessions / evict.Elapsed.TotalSeconds:0}/s); one "
                        + $"eviction call (show stat, show servers state, show sess read as far as needed, shutdowns "
                        + $"100 to a line): median {calls[calls.Count / 2]:0.0} ms, p95 "
                        + $"{calls[(int)(calls.Count * 0.95)]:0.0} ms, max {calls[^1]:0.0} ms; HAProxy's live count "
                        + $"off by at most {worst} (sampled every 100 ms, a sample apart from the clients' view)"
                )
            );
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            Directory.Delete(folder, recursive: true);
        }

        return 0;
    }

    private static async Task<TcpClient> OpenAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var buffer = new byte[64];
        if (await client.GetStream().ReadAsync(buffer) == 0)
        {
            throw new InvalidOperationException("the backend closed a new session at once");
        }

        return client;
    }

    private static async Task WatchClosedAsync(TcpClient client)
    {
        var buffer = new byte[64];
        try
        {
            while (await client.GetStream().ReadAsync(buffer) > 0) { }
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }
}
