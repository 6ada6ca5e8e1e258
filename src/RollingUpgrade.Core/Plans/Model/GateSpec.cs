namespace RollingUpgrade.Plans.Model;

/// <summary>A check that must pass before the run goes on.</summary>
public sealed record GateSpec(string Name, string Kind)
{
    public CommandTemplate? Command { get; init; }

    /// <summary>For http/tcp/xmpp-login: a URL or host:port; <c>{host}</c> stands for the node's address.</summary>
    public string? Target { get; init; }

    public int ExpectStatus { get; init; } = 200;

    public string? ExpectBody { get; init; }

    public string? User { get; init; }

    public string? PasswordEnv { get; init; }

    public string? Domain { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// xmpp-login: the longest a login may take to pass (null: the timeout); with <c>eviction_rate = "auto"</c> the
    /// pace also rises only while a login on the receiving nodes stays within it.
    /// </summary>
    public TimeSpan? MaxLatency { get; init; }

    public int Attempts { get; init; } = 3;

    /// <summary>lb-errors: how many new connection errors or 5xx between two readings fail the gate.</summary>
    public long MaxNewErrors { get; init; }

    /// <summary>prometheus: the PromQL query sent to <see cref="Target"/>'s <c>/api/v1/query</c>.</summary>
    public string? Query { get; init; }

    /// <summary>prometheus: what every returned series must satisfy.</summary>
    public MetricCondition? Condition { get; init; }

    /// <summary>prometheus: how many measurements, <see cref="Interval"/> apart, make the gate's window.</summary>
    public int Measurements { get; init; } = 1;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>prometheus: how many measurements may fail the condition before the gate fails.</summary>
    public int FailureLimit { get; init; }

    /// <summary>prometheus: a query that returns no series passes the measurement (default: it fails it).</summary>
    public bool NoDataPasses { get; init; }

    /// <summary>prometheus: the variable holding a bearer token for the API.</summary>
    public string? TokenEnv { get; init; }
}
