using Microsoft.Extensions.Logging;

namespace RollingUpgrade.Nodes.Diagnostics;

/// <summary>Diagnostic log of shells and products (event ids 2000-2099; see EngineLog for the ranges).</summary>
internal static partial class NodesLog
{
    [LoggerMessage(
        EventId = 2000,
        Level = LogLevel.Information,
        Message = "SSH connected to {Target} in {ElapsedMs} ms"
    )]
    public static partial void SshConnected(ILogger logger, string target, long elapsedMs);

    [LoggerMessage(
        EventId = 2001,
        Level = LogLevel.Warning,
        Message = "SSH connection to {Target} was lost; connecting again"
    )]
    public static partial void SshReconnecting(ILogger logger, string target);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "SSH connection to {Target} failed: {Reason}")]
    public static partial void SshConnectFailed(ILogger logger, string target, string reason);

    [LoggerMessage(
        EventId = 2003,
        Level = LogLevel.Debug,
        Message = "{Target}: {Command} -> exit {ExitCode} in {ElapsedMs} ms"
    )]
    public static partial void CommandRan(ILogger logger, string target, string command, int exitCode, long elapsedMs);

    [LoggerMessage(
        EventId = 2004,
        Level = LogLevel.Warning,
        Message = "{Target}: {Command} did not finish within {TimeoutSeconds} s"
    )]
    public static partial void CommandTimedOut(ILogger logger, string target, string command, double timeoutSeconds);
}
