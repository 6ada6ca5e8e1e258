using System.Collections.Concurrent;
using System.Text;

namespace RollingUpgrade.Demo.Load;

/// <summary>
/// Keeps real clients busy through a load balancer: XMPP sessions (login, ping every second) and a
/// steady rate of HTTP requests. Every operation is recorded with its outcome and time.
/// </summary>
public sealed class LoadDriver : IAsyncDisposable
{
    private readonly ConcurrentQueue<LoadEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];

    public IReadOnlyList<LoadEvent> Events => _events.ToList();

    public void Start(
        string host,
        int xmppPort,
        IReadOnlyList<(string User, string Password)> users,
        string domain,
        int httpPort,
        string httpPath,
        int httpPerSecond
    )
    {
        ArgumentNullException.ThrowIfNull(users);
        for (var i = 0; i < users.Count; i++)
        {
            var client = new XmppLoadClient(
                i,
                host,
                xmppPort,
                users[i].User,
                users[i].Password,
                domain,
                _events.Enqueue
            );
            _tasks.Add(Task.Run(() => client.RunAsync(_stop.Token)));
        }

        _tasks.Add(Task.Run(() => HttpLoopAsync(host, httpPort, httpPath, httpPerSecond, _stop.Token)));
    }

    /// <summary>Waits until every XMPP client has logged in once.</summary>
    public async Task WaitAllLoggedInAsync(int clients, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (
            Events
                .Where(e => e.Operation == LoadOperations.Login && e.Succeeded)
                .Select(e => e.Client)
                .Distinct()
                .Count() < clients
        )
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("not every load client logged in:\n" + Summary());
            }

            await Task.Delay(100);
        }
    }

    private async Task HttpLoopAsync(string host, int port, string path, int perSecond, CancellationToken stop)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(2) })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        var requests = new List<Task>();
        var next = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            requests.Add(OneAsync());
            next += interval;
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await Task.WhenAll(requests);

        async Task OneAsync()
        {
            try
            {
                using var response = await http.GetAsync(
                    new Uri($"http://{host}:{port}{path}"),
                    CancellationToken.None
                );
                _events.Enqueue(
                    new(
                        DateTimeOffset.UtcNow,
                        -1,
                        LoadOperations.Http,
                        response.IsSuccessStatusCode,
                        ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)
                    )
                );
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _events.Enqueue(new(DateTimeOffset.UtcNow, -1, LoadOperations.Http, false, e.Message));
            }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
    }

    public int Failed(string operation, DateTimeOffset? since = null) =>
        Events.Count(e => e.Operation == operation && !e.Succeeded && e.At >= (since ?? DateTimeOffset.MinValue));

    public int Attempted(string operation) => Events.Count(e => e.Operation == operation);

    /// <summary>Attempted and failed per operation, cuts, reconnects, first failures (since a time if given).</summary>
    public string Summary(DateTimeOffset? since = null)
    {
        var events = Events.Where(e => e.At >= (since ?? DateTimeOffset.MinValue)).ToList();
        var text = new StringBuilder();
        foreach (
            var operation in new[]
            {
                LoadOperations.Connect,
                LoadOperations.Login,
                LoadOperations.Ping,
                LoadOperations.Http,
            }
        )
        {
            text.AppendLine(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{operation, -10} attempted {events.Count(e => e.Operation == operation), 6}  failed "
                    + $"{events.Count(e => e.Operation == operation && !e.Succeeded), 4}"
            );
        }

        var cuts = events.Where(e => e.Operation == LoadOperations.Disconnect).ToList();
        text.AppendLine(
            System.Globalization.CultureInfo.InvariantCulture,
            $"sessions cut {cuts.Count} (clean stream close {cuts.Count(c => c.Detail == "stream-close")}, bare TCP "
                + $"close {cuts.Count(c => c.Detail == "tcp-reset")}); clients cut more than once: "
                + $"{cuts.GroupBy(c => c.Client).Count(g => g.Count() > 1)}"
        );
        var reconnects = cuts.Select(cut =>
                events.Any(e =>
                    e.Client == cut.Client && e.Operation == LoadOperations.Login && e.Succeeded && e.At > cut.At
                )
            )
            .ToList();
        text.AppendLine(
            System.Globalization.CultureInfo.InvariantCulture,
            $"reconnects after a cut: {reconnects.Count(r => r)} logged in again, {reconnects.Count(r => !r)} not"
        );
        foreach (var failure in events.Where(e => !e.Succeeded).Take(10))
        {
            text.AppendLine(
                System.Globalization.CultureInfo.InvariantCulture,
                $"  failed {failure.Operation} client {failure.Client} at {failure.At:HH:mm:ss.fff}: {failure.Detail}"
            );
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
