using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace RollingUpgrade.Cli.Logging;

/// <summary>
/// Loggers whose lines are formatted at once and written by a task of their own, so that logging never waits for the
/// output: in the proxy, a write to a stderr nobody drains would otherwise hold the thread serving a connection (with
/// the runtime's inline socket completions on, every connection served by that thread). When more than
/// <see cref="Capacity"/> lines wait, the newest are left out and the next line written says how many. Disposing
/// writes what waits (for up to 5 s).
/// </summary>
internal sealed class QueuedLoggerFactory : ILoggerFactory
{
    private readonly ILoggerFactory _inner;
    private readonly Channel<Line> _lines;
    private readonly Task _writing;
    private long _leftOut;

    public QueuedLoggerFactory(ILoggerFactory inner, int capacity = 10_000)
    {
        _inner = inner;
        Capacity = capacity;
        _lines = Channel.CreateBounded<Line>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _leftOut)
        );
        _writing = Task.Run(WriteAsync);
    }

    public int Capacity { get; }

    public ILogger CreateLogger(string categoryName) => new Queued(this, _inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writing.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task WriteAsync()
    {
        await foreach (var line in _lines.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var leftOut = Interlocked.Exchange(ref _leftOut, 0);
            var message =
                leftOut == 0
                    ? line.Message
                    : $"{line.Message} ({leftOut} more lines left out: the log output fell behind)";
            try
            {
                line.Logger.Log(line.Level, line.Id, message, line.Exception, static (m, _) => m);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The output is gone (a closed stderr): nothing else can be told there.
            }
        }
    }

    private sealed record Line(ILogger Logger, LogLevel Level, EventId Id, string Message, Exception? Exception);

    private sealed class Queued(QueuedLoggerFactory owner, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (inner.IsEnabled(logLevel))
            {
                owner._lines.Writer.TryWrite(
                    new Line(inner, logLevel, eventId, formatter(state, exception), exception)
                );
            }
        }
    }
}
