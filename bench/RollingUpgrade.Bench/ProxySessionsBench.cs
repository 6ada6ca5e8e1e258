using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Bench;

/// <summary>
/// The embedded proxy at XMPP scale: the CLI's `rollingupgrade proxy` (a process of its own) with a TCP listener in
/// front of one echo backend on 127.0.0.52, <c>sessions</c> client connections held open through it, each proven to
/// reach the backend (a byte echoed). Measured: the proxy's resident memory per session, the live count its admin API
/// gives against the sessions really open, then an eviction of all of them at <c>rate</c> per second through the
/// admin API (as a drain does), with the live count sampled every 100 ms against the clients still connected.
/// Needs a high open-files limit (it holds 2 x sessions sockets here and 2 x sessions in the proxy): run it under
/// <c>ulimit -n 100000</c>.
/// </summary>
internal static class ProxySessionsBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary><c>rollingupgrade proxy --config FILE</c>, its own process; its output is read and dropped.</summary>
    internal static Process StartProxy(string repositoryRoot, string config) =>
        StartProxyOf(StateStoreBench.CliDll(repositoryRoot), config);

    /// <summary>The proxy of the given build of the CLI (its <c>rollingupgrade.dll</c>).</summary>
    internal static Process StartProxyOf(string cliDll, string config)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { cliDll, "proxy", "--config", config })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    public static async Task<int> RunAsync(string repositoryRoot, int sessions, int rate)
    {
        var folder = Directory.CreateTempSubdirectory("ru-bench-proxy-").FullName;
        using var backend = new TcpListener(IPAddress.Parse("127.0.0.52"), 0);
        backend.Start(sessions);
        var backendPort = ((IPEndPoint)backend.LocalEndpoint).Port;
        using var stopBackend = new CancellationTokenSource();
        var accepting = EchoAsync(backend, stopBackend.Token);
        var listen = LoopbackPorts.Free();
        var admin = LoopbackPorts.Free();
        var config = Path.Combine(folder, "proxy.toml");
        File.WriteAllText(
            config,
            $"""
            [admin]
            listen = "127.0.0.1:{admin}"

            [[clusters]]
            name = "xmpp"
            health_interval = "1s"

            [[clusters.destinations]]
            name = "b1"
            host = "127.0.0.52"
            tcp_port = {backendPort}

            [[listeners]]
            kind = "tcp"
            listen = "127.0.0.1:{listen}"
            cluster = "xmpp"

            """
        );
        using var proxy = StartProxy(repositoryRoot, config);
        var clients = new List<TcpClient>();
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", listen, TimeSpan.FromSeconds(30));
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}") };
            await Task.Delay(1500);
            var idleKiB = ResidentKiB(proxy.Id);

            var open = Stopwatch.StartNew();
            var opening = new SemaphoreSlim(200);
            var opened = await Task.WhenAll(
                Enumerable
                    .Range(0, sessions)
                    .Select(async _ =>
                    {
                        await opening.WaitAsync();
                        try
                        {
                            return await OpenAsync(listen);
                        }
                        finally
                        {
                            opening.Release();
                        }
                    })
            );
            open.Stop();
            clients.AddRange(opened);
            await Task.Delay(2000);
            var liveKiB = ResidentKiB(proxy.Id);
            var live = await LiveAsync(http);
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"{sessions} sessions opened through the proxy in {open.Elapsed.TotalSeconds:0.0} s (each echoed a "
                        + $"byte from the backend); live count {live}; proxy resident memory {idleKiB / 1024.0:0} MiB "
                        + $"idle, {liveKiB / 1024.0:0} MiB with the sessions: "
                        + $"{(liveKiB - idleKiB) / (double)sessions:0.0} KiB per session"
                )
            );

            // Evict at the given pace, as a drain's eviction does: a share every 100 ms.
            var closed = clients.Select(WatchClosedAsync).ToList();
            var perTick = Math.Max(1, rate / 10);
            var evict = Stopwatch.StartNew();
            var worst = 0;
            var samples = 0;
            var evicted = 0L;
            while (true)
            {
                var tick = Task.Delay(100);
                if (evicted < sessions)
                {
                    using var response = await http.PostAsync(
                        $"/v1/clusters/xmpp/destinations/b1/evict?max={perTick}",
                        null
                    );
                    evicted += (await response.Content.ReadFromJsonAsync<JsonElement>())
                        .GetProperty("evicted")
                        .GetInt64();
                }

                await tick;
                var reported = await LiveAsync(http);
                var really = closed.Count(c => !c.IsCompleted);
                // The proxy counts a session until it has closed; a client sees the close a moment later.
                worst = Math.Max(worst, Math.Abs(reported - really));
                samples++;
                if (reported == 0 && really == 0)
                {
                    break;
                }

                if (evict.Elapsed > TimeSpan.FromSeconds(sessions / (double)rate * 3 + 30))
                {
                    throw new TimeoutException($"eviction did not finish: {reported} live, {really} still open");
                }
            }

            evict.Stop();
            Console.WriteLine(
                string.Create(
                    Inv,
                    $"evicted {evicted} at {rate}/s asked ({perTick} per 100 ms): all closed in "
                        + $"{evict.Elapsed.TotalSeconds:0.0} s ({sessions / evict.Elapsed.TotalSeconds:0}/s); live "
                        + $"count against sessions really open, sampled {samples} times: off by at most {worst}"
                )
            );
            return 0;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            proxy.Kill(entireProcessTree: true);
            await proxy.WaitForExitAsync();
            await stopBackend.CancelAsync();
            backend.Stop();
            try
            {
                await accepting;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<TcpClient> OpenAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(new byte[] { 42 });
        var one = new byte[1];
        if (await stream.ReadAsync(one) != 1 || one[0] != 42)
        {
            throw new IOException("the backend did not echo through the proxy");
        }

        return client;
    }

    /// <summary>Completes when the proxy closes the client's connection.</summary>
    private static async Task WatchClosedAsync(TcpClient client)
    {
        var one = new byte[1];
        try
        {
            while (await client.GetStream().ReadAsync(one) > 0)
            {
                // Nothing is sent after the first echo.
            }
        }
        catch (IOException)
        {
            // Reset: closed as well.
        }
    }

    private static async Task<int> LiveAsync(HttpClient http)
    {
        var clusters = await http.GetFromJsonAsync<JsonElement>("/v1/clusters");
        return clusters[0].GetProperty("destinations")[0].GetProperty("live").GetInt32();
    }

    private static async Task EchoAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var socket = await listener.AcceptSocketAsync(stop);
            _ = Task.Run(
                async () =>
                {
                    using (socket)
                    {
                        var buffer = new byte[64];
                        try
                        {
                            int read;
                            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
                            {
                                await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stop);
                            }
                        }
                        catch (Exception e) when (e is SocketException or OperationCanceledException)
                        {
                            // The proxy closed its side, or the bench ended.
                        }
                    }
                },
                stop
            );
        }
    }

    private static long ResidentKiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv);
    }
}
