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

    public int Attempts { get; init; } = 3;

    /// <summary>lb-errors: how many new connection errors or 5xx between two readings fail the gate.</summary>
    public long MaxNewErrors { get; init; }
}
