namespace RollingUpgrade.Plans.Model;

/// <summary>
/// One <c>[[notify]]</c> receiver: a webhook whose URL is read from an environment variable (it is a secret), told of
/// the events it names.
/// </summary>
public sealed record NotifySpec(string Name, string UrlEnv, IReadOnlySet<string> Events)
{
    /// <summary>"json" (the event as an object) or "slack" (an incoming-webhook message with a text).</summary>
    public string Format { get; init; } = NotifyFormats.Json;

    /// <summary>The variable holding the HMAC-SHA256 key; each request is then signed.</summary>
    public string? SecretEnv { get; init; }

    /// <summary>How long one delivery attempt may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Attempts per notification (with backoff between them); a receiver that fails them all is a warning.
    /// </summary>
    public int Attempts { get; init; } = 3;
}
