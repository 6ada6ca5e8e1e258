namespace RollingUpgrade.Journaling;

/// <summary>
/// Where a cluster's runs live: <c>&lt;state&gt;/&lt;cluster&gt;/runs/&lt;run-id&gt;.jsonl</c>, the
/// <c>current</c> pointer to the latest run, and the lock.
/// </summary>
public sealed class StateDirectory(string root, string cluster)
{
    public string ClusterFolder { get; } = Path.Combine(root, cluster);

    public string RunsFolder => Path.Combine(ClusterFolder, "runs");

    public string LockPath => Path.Combine(ClusterFolder, "lock");

    public string CurrentPath => Path.Combine(ClusterFolder, "current");

    public string PromotePath => Path.Combine(ClusterFolder, "promote");

    public string RollbackRequestPath => Path.Combine(ClusterFolder, "rollback-requested");

    public static string DefaultRoot(string planPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(planPath)) ?? ".", ".rollingupgrade");

    public string JournalPath(string runId) => Path.Combine(RunsFolder, runId + ".jsonl");

    public string? CurrentRunId() =>
        File.Exists(CurrentPath)
            ? File.ReadAllText(CurrentPath).Trim() is { Length: > 0 } id
                ? id
                : null
            : null;

    public void SetCurrent(string runId)
    {
        Directory.CreateDirectory(ClusterFolder);
        var temp = CurrentPath + ".tmp";
        File.WriteAllText(temp, runId);
        File.Move(temp, CurrentPath, overwrite: true);
    }
}
