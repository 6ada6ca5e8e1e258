using Microsoft.Extensions.Logging;
using RollingUpgrade.Cli.Logging;

namespace RollingUpgrade.Tests;

/// <summary>The proxy's log: logging never waits for the output; what waits is written in order, or counted.</summary>
public sealed class QueuedLoggerFactoryTests
{
    [Fact(Timeout = 30_000)]
    public async Task Logging_returns_while_the_output_is_stuck_and_every_line_follows_in_order()
    {
        var sink = new StuckSink();
        using var inner = new LoggerFactory([sink]);
        var queued = new QueuedLoggerFactory(inner);
        var log = queued.CreateLogger("RollingUpgrade.Proxy");

        var logging = Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                log.LogWarning("line {N}", i);
            }
        });

        (await Task.WhenAny(logging, Task.Delay(TimeSpan.FromSeconds(10)))).ShouldBe(logging);
        sink.Lines.Count.ShouldBeLessThanOrEqualTo(1);
        sink.Release();
        queued.Dispose();
        sink.Lines.ShouldBe(Enumerable.Range(0, 100).Select(i => $"line {i}").ToList());
    }

    [Fact(Timeout = 30_000)]
    public async Task Lines_beyond_the_capacity_are_left_out_and_the_next_line_says_how_many()
    {
        var sink = new StuckSink();
        using var inner = new LoggerFactory([sink]);
        var queued = new QueuedLoggerFactory(inner, capacity: 5);
        var log = queued.CreateLogger("RollingUpgrade.Proxy");
        log.LogWarning("line 0");
        await sink.Entered.WaitAsync(TimeSpan.FromSeconds(10)); // the writer is stuck writing line 0

        for (var i = 1; i < 20; i++)
        {
            log.LogWarning("line {N}", i);
        }

        sink.Release();
        queued.Dispose();
        sink.Lines.ShouldBe([
            "line 0",
            "line 1 (14 more lines left out: the log output fell behind)",
            "line 2",
            "line 3",
            "line 4",
            "line 5",
        ]);
    }

    /// <summary>An output that takes the first line, then blocks until released.</summary>
    private sealed class StuckSink : ILoggerProvider, ILogger
    {
        private readonly ManualResetEventSlim _released = new();
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _lines = [];

        public Task Entered => _entered.Task;

        public List<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public void Release() => _released.Set();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }

            _entered.TrySetResult();
            _released.Wait();
        }

        public void Dispose() => _released.Dispose();
    }
}
