using System.Globalization;
using Microsoft.Extensions.Logging;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Logging;

/// <summary>
/// Writes diagnostic log lines ("time level category[event id] message") to a file or to
/// stderr, each passed through the secret redactor first. ASP.NET's and YARP's own categories
/// are kept to warnings.
/// </summary>
internal sealed class RedactingLoggerProvider(
    TextWriter writer,
    LogLevel minimum,
    SecretRedactor redactor,
    bool ownsWriter
) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
        lock (_gate)
        {
            writer.Flush();
            if (ownsWriter)
            {
                writer.Dispose();
            }
        }
    }

    private bool Enabled(string category, LogLevel level) =>
        level != LogLevel.None && level >= (IsFramework(category) ? LogLevel.Warning : minimum);

    private static bool IsFramework(string category) =>
        category.StartsWith("Microsoft.", StringComparison.Ordinal)
        || category.StartsWith("Yarp.", StringComparison.Ordinal);

    private void Write(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        var time = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var text = $"{time} {Level(level)} {category}[{id.Id}] {message}";
        if (exception is not null && level >= LogLevel.Error)
        {
            text += Environment.NewLine + exception;
        }

        lock (_gate)
        {
            writer.WriteLine(redactor.Redact(text));
            writer.Flush();
        }
    }

    private static string Level(LogLevel level) =>
        level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "crit",
        };

    private sealed class Logger(RedactingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => provider.Enabled(category, logLevel);

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
