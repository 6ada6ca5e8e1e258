namespace RollingUpgrade.Execution;

/// <summary>
/// What the engine learned during a run (the version it started from, when mixed versions
/// began, backup file names). Kept in the journal as facts, so resume restores it.
/// Steps of one batch run at once, so it is safe to use from several of them.
/// </summary>
internal sealed class RunState
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _facts = new(
        StringComparer.Ordinal
    );

    public IReadOnlyDictionary<string, string> Facts => _facts;

    public string? Get(string key) => _facts.TryGetValue(key, out var value) ? value : null;

    internal void Set(string key, string value) => _facts[key] = value;

    public const string FromVersion = "from_version";
    public const string MixedSince = "mixed_since";

    public static string BackupKey(string node) => $"backup:{node}";
}
