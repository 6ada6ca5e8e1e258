using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>
/// XMPP clusters hold many long-lived connections per node: the embedded proxy holds thousands of TCP sessions to one
/// node, counts every one, and a drain's eviction ends them all, each once, the count never above what is really
/// open. Client, proxy (both sides) and node sockets all live in this test process, four per session, under the
/// machine's open-files limit of 20,000 (which cannot be raised here): 4,400 sessions. `bench proxy-sessions` runs the
/// proxy as a process of its own with 9,000, and measures how fast.
/// </summary>
public sealed partial class ProxyAtScaleTests : IAsyncLifetime
{
    private const int Sessions = 4_400;
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync()
    {
        // Client, proxy (both sides) and backend sockets all live in this process: four per session.
        OpenFiles.AtLeast(Sessions * 4 + 2_000);
        _proxy = await ProxyFixture.StartAsync();
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact(Timeout = 300_000)]
    public async Task Thousands_of_sessions_are_held_counted_and_all_evicted_each_once()
    {
        using var lb = _proxy.Adapter();
        var n1 = _proxy.Nodes[0];
        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Maintenance, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Maintenance, CancellationToken.None);
        var clients = new List<TcpClient>();
        try
        {
            using var opening = new SemaphoreSlim(200);
            clients.AddRange(
                await Task.WhenAll(
                    Enumerable
                        .Range(0, Sessions)
                        .Select(async _ =>
                        {
                            await opening.WaitAsync();
                            try
                            {
                                return await OpenAsync(_proxy.TcpPort);
                            }
                            finally
                            {
                                opening.Release();
                            }
                        })
                )
            );

            (await lb.ReadAsync([n1], CancellationToken.None)).Single().LiveConnections.ShouldBe(Sessions);

            var closed = clients.Select(ClosedAsync).ToList();
            var evicted = 0L;
            while (true)
            {
                evicted += await lb.EvictAsync(n1, 50, CancellationToken.None);
                await Task.Delay(100);
                var open = closed.Count(c => !c.IsCompleted);
                var live = (await lb.ReadAsync([n1], CancellationToken.None)).Single().LiveConnections;
                // A session is counted until the proxy has closed it (the client sees the close just after): never
                // more than are really open.
                live.ShouldBeLessThanOrEqualTo(open);
                if (live == 0 && open == 0)
                {
                    break;
                }
            }

            evicted.ShouldBe(Sessions);
            (await lb.EvictAsync(n1, 50, CancellationToken.None)).ShouldBe(0);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<TcpClient> OpenAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        // The node greets each session: it reached n1 through the proxy.
        var greeting = new byte[64];
        (await client.GetStream().ReadAsync(greeting).AsTask().WaitAsync(TimeSpan.FromSeconds(30))).ShouldBeGreaterThan(
            0
        );
        return client;
    }

    private static async Task ClosedAsync(TcpClient client)
    {
        var buffer = new byte[64];
        try
        {
            while (await client.GetStream().ReadAsync(buffer) > 0)
            {
                // The rest of a greeting.
            }
        }
        catch (IOException)
        {
            // Reset: closed as well.
        }
    }

    /// <summary>Raises this process's open-files limit (root may raise the hard limit too).</summary>
    private static partial class OpenFiles
    {
        private const int NoFile = 7;

        [StructLayout(LayoutKind.Sequential)]
        private struct Limit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [LibraryImport("libc", SetLastError = true)]
        private static partial int getrlimit(int resource, out Limit limit);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int setrlimit(int resource, in Limit limit);

        public static void AtLeast(int files)
        {
            getrlimit(NoFile, out var limit).ShouldBe(0);
            if (limit.Current >= (ulong)files)
            {
                return;
            }

            var wanted = new Limit { Current = (ulong)files, Maximum = Math.Max(limit.Maximum, (ulong)files) };
            setrlimit(NoFile, wanted)
                .ShouldBe(
                    0,
                    $"the open-files limit is {limit.Current} (hard {limit.Maximum}) and could not be raised to {files}: "
                        + $"run as root or under `ulimit -n {files}`"
                );
        }
    }
}
