using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// A Prometheus-compatible HTTP API on loopback for metric-gate tests: <c>GET /api/v1/query</c> answers with the
/// JSON bodies it is given, in order (the last one repeats), and records every query and its headers.
/// </summary>
public sealed class MetricsApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;
    private readonly ConcurrentQueue<string> _answers = new();
    private string _last = Vector();

    public MetricsApi(string address = "127.0.0.1")
    {
        Url = $"http://{address}:{LoopbackPorts.Free(address)}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The base URL a gate's <c>url</c> names.</summary>
    public string Url { get; }

    public ConcurrentQueue<(string Query, string? Authorization)> Queries { get; } = new();

    /// <summary>Answers, in order; the last one given is repeated once they are used up.</summary>
    public void Answer(params string[] bodies)
    {
        foreach (var body in bodies)
        {
            _answers.Enqueue(body);
        }
    }

    /// <summary>A success with an instant vector holding one series per value.</summary>
    public static string Vector(params double[] values) =>
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        + string.Join(
            ',',
            values.Select(
                (v, i) =>
                    $"{{\"metric\":{{\"instance\":\"n{i + 1}\"}},\"value\":[1764480000.123,\"{v.ToString("R", CultureInfo.InvariantCulture)}\"]}}"
            )
        )
        + "]}}";

    public static string Error(string type, string message) =>
        $"{{\"status\":\"error\",\"errorType\":\"{type}\",\"error\":\"{message}\"}}";

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

            try
            {
                var request = context.Request;
                if (request.Url?.AbsolutePath != "/api/v1/query")
                {
                    context.Response.StatusCode = 404;
                    context.Response.Close();
                    continue;
                }

                Queries.Enqueue((request.QueryString["query"] ?? string.Empty, request.Headers["Authorization"]));
                if (_answers.TryDequeue(out var next))
                {
                    _last = next;
                }

                var bytes = Encoding.UTF8.GetBytes(_last);
                context.Response.StatusCode = _last.Contains("\"status\":\"error\"", StringComparison.Ordinal)
                    ? 400
                    : 200;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
            {
                // The client went away.
            }
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
