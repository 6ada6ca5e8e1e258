using System.Collections.Concurrent;
using System.Diagnostics;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Tests;

/// <summary>
/// `rollingupgrade proxy` as operators run it, a process of its own in front of a demo node: it forwards and logs, in
/// the runtime's default mode and with socket continuations run where socket events are read (an operator's choice).
/// </summary>
public sealed class ProxyProcessTests : IAsyncLifetime
{
    private const string NodeAddress = "127.0.0.36";

    private readonly string _root = Directory.CreateTempSubdirectory("ru-proxy-process-").FullName;
    private DemoNode _node = null!;
    private int _nodeHttpPort;
    private int _nodeTcpPort;

    public async Task InitializeAsync()
    {
        _nodeHttpPort = LoopbackPorts.Free(NodeAddress);
        _nodeTcpPort = LoopbackPorts.Free(NodeAddress);
        _node = new DemoNode("n1", NodeAddress, _nodeHttpPort, _nodeTcpPort, "1.0");
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact(Timeout = 90_000)]
    public async Task It_forwards_and_logs_its_start_and_admin_calls_and_takes_no_aspnet_settings_from_its_directory()
    {
        // ASP.NET settings in its working directory are not the proxy's: they add no listener.
        var stray = LoopbackPorts.Free();
        await File.WriteAllTextAsync(
            Path.Combine(_root, "appsettings.json"),
            $$"""{"Kestrel": {"Endpoints": {"Extra": {"Url": "http://127.0.0.1:{{stray}}"} } } }"""
        );

        await using var proxy = await ProxyProcess.StartAsync(
            _root,
            NodeAddress,
            _nodeHttpPort,
            _nodeTcpPort,
            inline: null
        );
        using var http = new HttpClient();

        (await http.GetStringAsync(new Uri($"http://127.0.0.1:{proxy.ListenPort}/"))).ShouldBe("n1 1.0");
        (await http.GetStringAsync(new Uri($"http://127.0.0.1:{proxy.AdminPort}/v1/clusters"))).ShouldContain("n1");

        // The runtime's default: one event thread per 30 cores.
        proxy.SocketEventThreads().ShouldBe(Math.Max(1, (int)Math.Round(Environment.ProcessorCount / 30.0)));
        await proxy.WaitForErrorLineAsync("RollingUpgrade.Proxy[3300] proxy started");
        await proxy.WaitForErrorLineAsync("RollingUpgrade.Proxy.Admin[3302] admin API GET /v1/clusters -> 200");
        LoopbackPorts.IsFree("127.0.0.1", stray).ShouldBeTrue();
    }

    [Fact(Timeout = 90_000)]
    public async Task With_inline_socket_completions_requests_and_tcp_sessions_are_proxied_counted_and_evicted()
    {
        await using var proxy = await ProxyProcess.StartAsync(_root, NodeAddress, _nodeHttpPort, _nodeTcpPort, "1");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxy.AdminPort}/") };
        using var web = new HttpClient();

        proxy.SocketEventThreads().ShouldBe(Environment.ProcessorCount);
        for (var i = 0; i < 20; i++)
        {
            (await web.GetStringAsync(new Uri($"http://127.0.0.1:{proxy.ListenPort}/"))).ShouldBe("n1 1.0");
        }

        var sessions = new List<(System.Net.Sockets.TcpClient Client, StreamReader Reader)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", proxy.TcpPort);
                var reader = new StreamReader(client.GetStream());
                (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10))).ShouldNotBeNull();
                sessions.Add((client, reader));
            }

            (await http.GetStringAsync("v1/clusters/xmpp")).ShouldContain("\"live\":3");
            using var evict = await http.PostAsync("v1/clusters/xmpp/destinations/n1/evict?max=2", null);
            (await evict.Content.ReadAsStringAsync()).ShouldBe("{\"evicted\":2}");
            (await sessions[0].Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10))).ShouldBeNull();
            (await sessions[1].Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10))).ShouldBeNull();
            await sessions[2].Client.GetStream().WriteAsync("still here\n"u8.ToArray());
            (await sessions[2].Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10))).ShouldBe("still here");
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!(await http.GetStringAsync("v1/clusters/xmpp")).Contains("\"live\":1", StringComparison.Ordinal))
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, "the live count did not come down to the one session left");
                await Task.Delay(50);
            }
        }
        finally
        {
            foreach (var (client, _) in sessions)
            {
                client.Dispose();
            }
        }
    }

    private sealed class ProxyProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _errorLines = new();

        private ProxyProcess(Process process, int listenPort, int tcpPort, int adminPort)
        {
            _process = process;
            ListenPort = listenPort;
            TcpPort = tcpPort;
            AdminPort = adminPort;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    _errorLines.Enqueue(e.Data);
                }
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
        }

        public int ListenPort { get; }

        public int TcpPort { get; }

        public int AdminPort { get; }

        public static async Task<ProxyProcess> StartAsync(
            string root,
            string node,
            int nodePort,
            int nodeTcpPort,
            string? inline
        )
        {
            var listen = LoopbackPorts.Free();
            var tcp = LoopbackPorts.Free();
            var admin = LoopbackPorts.Free();
            var config = Path.Combine(root, $"proxy-{listen}.toml");
            await File.WriteAllTextAsync(
                config,
                $"""
                [admin]
                listen = "127.0.0.1:{admin}"

                [[clusters]]
                name = "xmpp"

                [[clusters.destinations]]
                name = "n1"
                host = "{node}"
                http_port = {nodePort}
                tcp_port = {nodeTcpPort}

                [[listeners]]
                kind = "http"
                listen = "127.0.0.1:{listen}"
                cluster = "xmpp"

                [[listeners]]
                kind = "tcp"
                listen = "127.0.0.1:{tcp}"
                cluster = "xmpp"

                """
            );
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = root,
            };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll"), "proxy" })
            {
                info.ArgumentList.Add(arg);
            }

            info.ArgumentList.Add("--config");
            info.ArgumentList.Add(config);
            info.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS");
            info.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT");
            if (inline is not null)
            {
                info.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = inline;
            }

            var proxy = new ProxyProcess(Process.Start(info)!, listen, tcp, admin);
            try
            {
                await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", listen, TimeSpan.FromSeconds(30));
                await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", admin, TimeSpan.FromSeconds(30));
            }
            catch
            {
                await proxy.DisposeAsync();
                throw;
            }

            return proxy;
        }

        /// <summary>The runtime's socket event threads (named ".NET Sockets") running in the process now.</summary>
        public int SocketEventThreads() =>
            Directory
                .EnumerateDirectories($"/proc/{_process.Id}/task")
                .Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == ".NET Sockets");

        public async Task WaitForErrorLineAsync(string text)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!_errorLines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException(
                        $"no line with '{text}' on the proxy's stderr; it wrote:\n{string.Join('\n', _errorLines)}"
                    );
                }

                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
