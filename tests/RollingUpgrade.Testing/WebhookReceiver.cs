using System.Collections.Concurrent;
using System.Net;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// A real HTTP receiver on a loopback address for webhook tests: it records every request (headers and body) and
/// answers as told: 200, a status for the first N requests, or never (a receiver that hangs).
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;
    private int _seen;

    public WebhookReceiver(string address = "127.0.0.1")
    {
        var port = LoopbackPorts.Free(address);
        Url = $"http://{address}:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    /// <summary>The status the first <see cref="FailFirst"/> requests get.</summary>
    public HttpStatusCode FailWith { get; set; } = HttpStatusCode.ServiceUnavailable;

    public int FailFirst { get; set; }

    /// <summary>Requests are read and never answered.</summary>
    public bool Hang { get; set; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public sealed record Request(DateTimeOffset At, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().WaitAsync(_stop.Token);
            }
            catch (Exception e)
                when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context
                .Request.Headers.AllKeys.OfType<string>()
                .ToDictionary(
                    k => k,
                    k => context.Request.Headers[k] ?? string.Empty,
                    StringComparer.OrdinalIgnoreCase
                );
            Requests.Enqueue(new Request(DateTimeOffset.UtcNow, headers, body.ToArray()));
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            context.Response.StatusCode = (int)(
                Interlocked.Increment(ref _seen) <= FailFirst ? FailWith : HttpStatusCode.OK
            );
            context.Response.Close();
        }
        catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
        {
            // Stopped, or the client gave up.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stop.Cancel();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
