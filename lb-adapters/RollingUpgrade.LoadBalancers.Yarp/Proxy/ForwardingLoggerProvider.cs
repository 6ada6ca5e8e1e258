using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>
/// Hands the proxy host's loggers to the caller's factory (which the caller owns and disposes). Per-request warnings
/// (ASP.NET's, YARP's forwarder's, and the proxy's own "no destination" while every node is drained or down) are
/// written once per <see cref="Window"/> for each category and event, the next one saying how many were left out: a
/// proxy taking thousands of requests a second while its nodes are down would otherwise write a line for each.
/// </summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory target, TimeProvider? time = null) : ILoggerProvider
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public ILogger CreateLogger(string categoryName)
    {
        var logger = target.CreateLogger(categoryName);
        return
            categoryName.StartsWith("Microsoft", StringComparison.Ordinal)
            || categoryName.StartsWith("Yarp", StringComparison.Ordinal)
            || categoryName == HttpForwarding.LogCategory
            ? new RateLimited(logger, _time)
            : logger;
    }

    public void Dispose() { }

    private sealed class RateLimited(ILogger inner, TimeProvider time) : ILogger
    {
        /// <summary>Per event id: when its last line was written, and how many were left out since.</summary>
        private readonly ConcurrentDictionary<int, (DateTimeOffset WrittenAt, long LeftOut)> _events = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            var now = time.GetUtcNow();
            long leftOut = 0;
            var write = false;
            _events.AddOrUpdate(
                eventId.Id,
                _ =>
                {
                    write = true;
                    return (now, 0);
                },
                (_, seen) =>
                {
                    if (now - seen.WrittenAt < Window)
                    {
                        write = false;
                        return (seen.WrittenAt, seen.LeftOut + 1);
                    }

                    write = true;
                    leftOut = seen.LeftOut;
                    return (now, 0);
                }
            );
            if (!write)
            {
                return;
            }

            inner.Log(
                logLevel,
                eventId,
                state,
                exception,
                leftOut == 0
                    ? formatter
                    : (s, e) => $"{formatter(s, e)} ({leftOut} more like this in the {Window.TotalSeconds:0} s before)"
            );
        }
    }
}
