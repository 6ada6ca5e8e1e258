using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RollingUpgrade.Tests;

/// <summary>
/// The embedded proxy logs its startup, refused upstreams and admin API calls (it no longer clears its providers).
/// </summary>
public sealed class ProxyLoggingTests
{
    private sealed class Collector : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, int Id, string Message)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(Collector owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(
                LogLevel logLevel,
                EventId eventId,
                TState state,
                Exception? exception,
                Func<TState, Exception?, string> formatter
            ) => owner.Lines.Enqueue((category, logLevel, eventId.Id, formatter(state, exception)));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Startup_and_admin_calls_are_logged_with_their_event_ids()
    {
        var collector = new Collector();
        using var logging = new LoggerFactory([collector]);
        await using var proxy = await ProxyFixture.StartAsync(logging: logging);
        using var http = new HttpClient();

        var answer = await http.GetAsync(new Uri(proxy.AdminUrl + "v1/clusters"));

        answer.IsSuccessStatusCode.ShouldBeTrue();
        collector.Lines.ShouldContain(l =>
            l.Id == 3300 && l.Message.Contains($"admin API on 127.0.0.1:{proxy.Options.Admin.Listen.Port}")
        );
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!collector.Lines.Any(l => l.Id == 3302) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        collector.Lines.ShouldContain(l => l.Id == 3302 && l.Message == "admin API GET /v1/clusters -> 200");
    }

    [Fact(Timeout = 60_000)]
    public async Task Proxied_requests_write_no_per_request_lines_and_aspnet_only_warnings()
    {
        // While ASP.NET's hosting logger was enabled, every request started an Activity that HttpClient carried to
        // the node: a tenth of the proxy's throughput, and two log lines per request at information level.
        var collector = new Collector();
        using var logging = new LoggerFactory([collector]);
        await using var proxy = await ProxyFixture.StartAsync(logging: logging);
        using var http = new HttpClient();

        for (var i = 0; i < 20; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{proxy.HttpPort}/"))).IsSuccessStatusCode.ShouldBeTrue();
        }

        collector.Lines.ShouldNotContain(l =>
            l.Category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal)
        );
        collector.Lines.ShouldNotContain(l =>
            (
                l.Category.StartsWith("Microsoft", StringComparison.Ordinal)
                || l.Category.StartsWith("Yarp", StringComparison.Ordinal)
            )
            && l.Level < LogLevel.Warning
        );
        collector.Lines.ShouldContain(l => l.Id == 3300);
    }

    [Fact(Timeout = 60_000)]
    public async Task With_every_node_out_the_per_request_warnings_are_written_once_not_for_each_request()
    {
        var collector = new Collector();
        using var logging = new LoggerFactory([collector]);
        await using var proxy = await ProxyFixture.StartAsync(logging: logging);
        using var lb = proxy.Adapter();
        foreach (var node in proxy.Nodes)
        {
            await lb.SetStateAsync(node, RollingUpgrade.Ports.ServerAdminState.Maintenance, CancellationToken.None);
        }

        using var http = new HttpClient();
        for (var i = 0; i < 50; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{proxy.HttpPort}/"))).StatusCode.ShouldBe(
                System.Net.HttpStatusCode.ServiceUnavailable
            );
        }

        // A warning per 503 would be 50 lines: one is written, the others are counted in the next one.
        var warnings = collector.Lines.Where(l => l.Level >= LogLevel.Warning).ToList();
        warnings.ShouldContain(l => l.Id == 3304 && l.Category == "RollingUpgrade.Proxy.Http");
        warnings.GroupBy(w => (w.Category, w.Id)).ShouldAllBe(g => g.Count() == 1);
    }
}
