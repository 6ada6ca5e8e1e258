using Microsoft.Extensions.Logging;

namespace RollingUpgrade.Diagnostics;

/// <summary>
/// Diagnostic log of the engine (event ids 1000-1099), separate from the run's story (events,
/// journal). Ids are stable: operators filter and alert on them. Nodes use 2000-2099, HAProxy
/// 3000-3099, the embedded proxy's adapter 3100-3199, ELBv2 3200-3299, the proxy itself 3300-3399.
/// </summary>
internal static partial class EngineLog
{
    [LoggerMessage(
        EventId = 1000,
        Level = LogLevel.Information,
        Message = "step {Number} ({Phase}) started: {Description}"
    )]
    public static partial void StepStarted(ILogger logger, int number, string phase, string description);

    [LoggerMessage(
        EventId = 1001,
        Level = LogLevel.Information,
        Message = "step {Number} ({Phase}) succeeded in {ElapsedMs} ms"
    )]
    public static partial void StepSucceeded(ILogger logger, int number, string phase, long elapsedMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "step {Number} ({Phase}) failed: {Reason}")]
    public static partial void StepFailed(ILogger logger, int number, string phase, string reason, Exception exception);

    [LoggerMessage(
        EventId = 1003,
        Level = LogLevel.Warning,
        Message = "transient fault, retry {Attempt} after {DelayMs} ms: {Reason}"
    )]
    public static partial void Retrying(ILogger logger, int attempt, long delayMs, string reason);

    [LoggerMessage(
        EventId = 1004,
        Level = LogLevel.Warning,
        Message = "{What} on {Node} gave no answer within {Timeout}"
    )]
    public static partial void TimedOut(ILogger logger, string what, string node, string timeout);

    [LoggerMessage(
        EventId = 1005,
        Level = LogLevel.Debug,
        Message = "drain of {Node}: {Connections} connection(s) at the load balancers, "
            + "{Sessions} session(s) on the node"
    )]
    public static partial void DrainReading(ILogger logger, string node, long connections, string sessions);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "run {RunId} ended: {Outcome}")]
    public static partial void RunEnded(ILogger logger, string runId, string outcome);

    [LoggerMessage(
        EventId = 1007,
        Level = LogLevel.Information,
        Message = "run {RunId} {Action} (plan {Plan}, fingerprint {Fingerprint})"
    )]
    public static partial void RunBegan(ILogger logger, string runId, string action, string plan, string fingerprint);

    [LoggerMessage(
        EventId = 1008,
        Level = LogLevel.Debug,
        Message = "a sample of the other nodes' connections from {LoadBalancer} failed: {Error}"
    )]
    public static partial void SampleFailed(ILogger logger, string loadBalancer, string error);

    [LoggerMessage(
        EventId = 1009,
        Level = LogLevel.Debug,
        Message = "{LoadBalancer} does not count {Node}'s sessions: its drain is taken as read back"
    )]
    public static partial void PropagationUncounted(ILogger logger, string loadBalancer, string node);
}
