using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace RollingUpgrade.Demo;

/// <summary>
/// Clients of the demo cluster, all through the proxy: TCP line sessions and WebSockets that echo
/// twice a second and reconnect when the server ends them, and a steady rate of HTTP requests.
/// </summary>
public sealed class DemoLoad(int httpPort, int tcpPort) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly ConcurrentDictionary<string, (long Attempted, long Failed)> _counts = new(StringComparer.Ordinal);
    private long _cuts;

    public long Cuts => Interlocked.Read(ref _cuts);

    public IReadOnlyDictionary<string, (long Attempted, long Failed)> Counts => _counts;

    /// <summary>Counting starts again from here (the first step of the upgrade): what happened while preparing is not
    /// the upgrade's.</summary>
    public void CountFromNow()
    {
        _counts.Clear();
        Interlocked.Exchange(ref _cuts, 0);
    }

    public void Start(int tcpClients, int webSockets, int httpPerSecond)
    {
        for (var i = 0; i < tcpClients; i++)
        {
            _tasks.Add(Task.Run(() => SessionLoopAsync(TcpSessionAsync)));
        }

        for (var i = 0; i < webSockets; i++)
        {
            _tasks.Add(Task.Run(() => SessionLoopAsync(WebSocketSessionAsync)));
        }

        _tasks.Add(Task.Run(() => HttpLoopAsync(httpPerSecond)));
    }

    private void Count(string operation, bool ok) =>
        _counts.AddOrUpdate(operation, _ => (1, ok ? 0 : 1), (_, c) => (c.Attempted + 1, c.Failed + (ok ? 0 : 1)));

    private async Task SessionLoopAsync(Func<CancellationToken, Task<bool>> session)
    {
        while (!_stop.IsCancellationRequested)
        {
            var connected = await session(_stop.Token).ConfigureAwait(false);
            if (!_stop.IsCancellationRequested && connected)
            {
                Interlocked.Increment(ref _cuts);
            }

            try
            {
                await Task.Delay(connected ? 50 : 500, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One TCP session; true when it connected (and later was ended by the server).</summary>
    private async Task<bool> TcpSessionAsync(CancellationToken stop)
    {
        using var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, tcpPort, stop).ConfigureAwait(false);
            var reader = new StreamReader(client.GetStream());
            var greeting = await reader
                .ReadLineAsync(stop)
                .AsTask()
                .WaitAsync(TimeSpan.FromSeconds(5), stop)
                .ConfigureAwait(false);
            Count("tcp connect", greeting is not null);
            if (greeting is null)
            {
                return false;
            }

            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                await client
                    .GetStream()
                    .WriteAsync(Encoding.UTF8.GetBytes($"line {++n}\n"), stop)
                    .ConfigureAwait(false);
                var echo = await reader
                    .ReadLineAsync(stop)
                    .AsTask()
                    .WaitAsync(TimeSpan.FromSeconds(2), stop)
                    .ConfigureAwait(false);
                if (echo is null)
                {
                    return true; // The server ended the session: the client reconnects.
                }

                Count("tcp echo", echo == $"line {n}");
                await Task.Delay(500, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            if (!client.Connected)
            {
                Count("tcp connect", false);
                return false;
            }
        }
        catch (TimeoutException)
        {
            Count("tcp echo", false);
        }

        return true;
    }

    private async Task<bool> WebSocketSessionAsync(CancellationToken stop)
    {
        using var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{httpPort}/ws"), stop).ConfigureAwait(false);
            Count("websocket connect", true);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException)
        {
            Count("websocket connect", false);
            return false;
        }

        var buffer = new byte[1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket
                    .SendAsync(Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, true, stop)
                    .ConfigureAwait(false);
                var received = await socket
                    .ReceiveAsync(buffer, stop)
                    .WaitAsync(TimeSpan.FromSeconds(2), stop)
                    .ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }

                Count(
                    "websocket echo",
                    Encoding.UTF8.GetString(buffer, 0, received.Count).EndsWith(": hi", StringComparison.Ordinal)
                );
                await Task.Delay(500, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            // The server (or an eviction) ended it: reconnect.
        }
        catch (TimeoutException)
        {
            Count("websocket echo", false);
        }

        return true;
    }

    private async Task HttpLoopAsync(int perSecond)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var pending = new List<Task>();
        while (!_stop.IsCancellationRequested)
        {
            pending.Add(OneAsync());
            try
            {
                await Task.Delay(1000 / perSecond, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);

        async Task OneAsync()
        {
            try
            {
                using var response = await http.GetAsync(
                        new Uri($"http://127.0.0.1:{httpPort}/"),
                        CancellationToken.None
                    )
                    .ConfigureAwait(false);
                Count("http request", response.IsSuccessStatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Count("http request", false);
            }
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_tasks).ConfigureAwait(false);
        _stop.Dispose();
    }
}
