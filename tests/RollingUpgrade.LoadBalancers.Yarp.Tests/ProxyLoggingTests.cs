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
        public ConcurrentQueue<(string Category, int Id, string Message)> Lines { get; } = new();

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
            ) => owner.Lines.Enqueue((category, eventId.Id, formatter(state, exception)));
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
}
