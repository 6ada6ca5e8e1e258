namespace RollingUpgrade.Plans.Model;

/// <summary>How commands reach the nodes. Secrets are never stored here, only where to find them.</summary>
public sealed record AccessSpec
{
    public required AccessKind Kind { get; init; }

    public string User { get; init; } = "root";

    public int Port { get; init; } = 22;

    public string? KeyPath { get; init; }

    /// <summary>Environment variable holding the key's passphrase.</summary>
    public string? KeyPassphraseEnv { get; init; }

    public string? KnownHostsPath { get; init; }

    /// <summary>Pinned host key, <c>SHA256:base64</c>, per node name, or for all nodes under "*".</summary>
    public IReadOnlyDictionary<string, string> HostKeyFingerprints { get; init; } = new Dictionary<string, string>();

    public bool Sudo { get; init; }

    public bool AllowPassword { get; init; }

    public string? PasswordEnv { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// At most this many commands run at once from this machine (the steps of a batch run together): a batch of
    /// fifty nodes does not open fifty connections and processes at once unless told to.
    /// </summary>
    public int MaxParallelCommands { get; init; } = 32;
}
