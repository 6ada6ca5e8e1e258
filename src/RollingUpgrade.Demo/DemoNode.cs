using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RollingUpgrade.Demo;

/// <summary>
/// The demo's cluster node: HTTP (<c>/</c> and <c>/version</c> answer "NAME VERSION", <c>/slow</c> takes
/// two seconds), a WebSocket echo on <c>/ws</c>, and a TCP line protocol that greets with
/// "hello from NAME VERSION" and echoes lines. <c>/sessions</c> counts open TCP sessions (from the client's first
/// line) and WebSocket sessions.
/// </summary>
public sealed class DemoNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _sessions;

    public DemoNode(string name, string host, int httpPort, int tcpPort, string version)
    {
        Name = name;
        Version = version;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(host), httpPort);
            k.Listen(IPAddress.Parse(host), tcpPort, l => l.Run(LinesAsync));
        });
        _app = builder.Build();
        _app.UseWebSockets();
        _app.MapGet("/", () => $"{Name} {Version}");
        _app.MapGet("/version", () => Version);
        _app.MapGet("/health", () => "ok");
        _app.MapGet("/sessions", () => _sessions.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _app.MapGet(
            "/slow",
            async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                return $"{Name} {Version} slow";
            }
        );
        _app.Map("/ws", EchoWebSocketAsync);
    }

    public string Name { get; }

    public string Version { get; }

    public int Sessions => _sessions;

    public Task StartAsync() => _app.StartAsync();

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) =>
        Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    /// <summary>
    /// A TCP session is counted from the client's first line: a connection that closes without a word (a load
    /// balancer's health check) is no session, as a TCP connect is none for an XMPP server until the client speaks.
    /// </summary>
    private async Task LinesAsync(ConnectionContext connection)
    {
        var counted = false;
        try
        {
            var stream = connection.Transport.Output.AsStream(leaveOpen: true);
            await stream
                .WriteAsync(Encoding.UTF8.GetBytes($"hello from {Name} {Version}\n"), connection.ConnectionClosed)
                .ConfigureAwait(false);
            var input = connection.Transport.Input;
            var first = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
            if (first.Buffer.IsEmpty)
            {
                return;
            }

            Interlocked.Increment(ref _sessions);
            counted = true;
            input.AdvanceTo(first.Buffer.Start);
            await input.CopyToAsync(stream, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The client went away.
        }
        finally
        {
            if (counted)
            {
                Interlocked.Decrement(ref _sessions);
            }
        }
    }

    private async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Interlocked.Increment(ref _sessions);
        try
        {
            var buffer = new byte[4096];
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket
                        .CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None)
                        .ConfigureAwait(false);
                    break;
                }

                var reply = Encoding.UTF8.GetBytes($"{Name}: {Encoding.UTF8.GetString(buffer, 0, received.Count)}");
                await socket
                    .SendAsync(reply, WebSocketMessageType.Text, true, context.RequestAborted)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // Closed under us.
        }
        finally
        {
            Interlocked.Decrement(ref _sessions);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
