using System.Net;
using System.Net.Sockets;
using System.Text;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// Small real servers standing in for cluster nodes: on each address a TCP line server that
/// greets with "hello-from-NAME" and echoes, and an HTTP server that answers "NAME".
/// </summary>
public sealed class BackendServers : IAsyncDisposable
{
    private readonly List<BackendServer> _servers = [];

    public BackendServers(IReadOnlyList<(string Name, string Address)> nodes)
    {
        var addresses = nodes.Select(n => n.Address).ToArray();
        TcpPort = LoopbackPorts.FreeOnAll(addresses);
        HttpPort = LoopbackPorts.FreeOnAll(addresses);
        foreach (var (name, address) in nodes)
        {
            var server = new BackendServer(name, address, TcpPort, HttpPort);
            server.Start();
            _servers.Add(server);
        }
    }

    public int TcpPort { get; }

    public int HttpPort { get; }

    public BackendServer this[string name] => _servers.First(s => s.Name == name);

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}

public sealed class BackendServer(string name, string address, int tcpPort, int httpPort) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private TcpListener? _tcp;
    private TcpListener? _http;

    public string Name { get; } = name;

    public string Address { get; } = address;

    public int OpenConnections
    {
        get
        {
            lock (_clients)
            {
                return _clients.Count(c => c.Connected);
            }
        }
    }

    public void Start()
    {
        _tcp = new TcpListener(IPAddress.Parse(Address), tcpPort);
        _http = new TcpListener(IPAddress.Parse(Address), httpPort);
        _tcp.Start(512);
        _http.Start(512);
        _ = AcceptAsync(_tcp, ServeLinesAsync);
        _ = AcceptAsync(_http, ServeHttpAsync);
    }

    /// <summary>Stops listening (health checks fail) without touching open connections.</summary>
    public void StopListening()
    {
        _tcp?.Stop();
        _http?.Stop();
    }

    private async Task AcceptAsync(TcpListener listener, Func<TcpClient, Task> serve)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_clients)
            {
                _clients.Add(client);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await serve(client);
                }
                catch (Exception e)
                    when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The peer went away.
                }
                finally
                {
                    lock (_clients)
                    {
                        _clients.Remove(client);
                    }

                    client.Dispose();
                }
            });
        }
    }

    private async Task ServeLinesAsync(TcpClient client)
    {
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"hello-from-{Name}\n"), _stop.Token);
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private async Task ServeHttpAsync(TcpClient client)
    {
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        while (true)
        {
            var requestLine = await reader.ReadLineAsync(_stop.Token);
            if (requestLine is null)
            {
                return;
            }

            string? header;
            var close = false;
            while (!string.IsNullOrEmpty(header = await reader.ReadLineAsync(_stop.Token)))
            {
                close |= header.Equals("Connection: close", StringComparison.OrdinalIgnoreCase);
            }

            var path = requestLine.Split(' ').ElementAtOrDefault(1) ?? "/";
            if (path.StartsWith("/slow", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(2), _stop.Token);
            }

            var body = Name;
            var response =
                $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n"
                + $"{(close ? "Connection: close\r\n" : string.Empty)}\r\n{body}";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);
            if (close)
            {
                return;
            }
        }
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        StopListening();
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }
}
