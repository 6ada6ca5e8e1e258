using Microsoft.Extensions.Logging;

namespace RollingUpgrade.LoadBalancers.HAProxy;

/// <summary>Diagnostic log of the HAProxy adapter (event ids 3000-3099).</summary>
internal static partial class HAProxyLog
{
    [LoggerMessage(
        EventId = 3000,
        Level = LogLevel.Warning,
        Message = "HAProxy runtime API at {Endpoint}: connect failed, retry {Attempt}: {Reason}"
    )]
    public static partial void Retrying(ILogger logger, string endpoint, int attempt, string reason);

    [LoggerMessage(
        EventId = 3001,
        Level = LogLevel.Debug,
        Message = "HAProxy runtime API at {Endpoint}: {Command} ({ReplyBytes} bytes in {ElapsedMs} ms)"
    )]
    public static partial void Command(ILogger logger, string endpoint, string command, int replyBytes, long elapsedMs);

    [LoggerMessage(
        EventId = 3002,
        Level = LogLevel.Warning,
        Message = "HAProxy runtime API at {Endpoint} did not answer {Command} within {TimeoutSeconds} s"
    )]
    public static partial void TimedOut(ILogger logger, string endpoint, string command, double timeoutSeconds);
}
