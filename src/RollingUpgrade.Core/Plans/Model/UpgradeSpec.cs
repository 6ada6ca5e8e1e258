namespace RollingUpgrade.Plans.Model;

public sealed record UpgradeSpec
{
    public required string TargetVersion { get; init; }

    /// <summary>The version the cluster runs now; read from the nodes when not given.</summary>
    public string? FromVersion { get; init; }

    public CommandTemplate? Install { get; init; }

    /// <summary>True when running the install command twice is harmless (resume may then repeat it).</summary>
    public bool InstallIsIdempotent { get; init; }

    /// <summary>Reinstalls the previous version; required by the rollback policy of the rolling strategy.</summary>
    public CommandTemplate? RollbackInstall { get; init; }

    public bool BackupConfig { get; init; } = true;

    /// <summary>
    /// Where each run's config backups go (one folder per run inside it, node placeholders allowed); null: a
    /// "rollingupgrade-backups" folder next to config_path.
    /// </summary>
    public string? BackupDir { get; init; }

    /// <summary>How many runs' backups stay on each node; older ones are removed after a backup.</summary>
    public int BackupKeep { get; init; } = 5;

    /// <summary>
    /// After the install, the config is compared with its backup: a package that overwrote it is reported
    /// ("warn", the default) or stops the run with the node out of rotation ("halt").
    /// </summary>
    public string OnConfigOverwritten { get; init; } = "warn";

    /// <summary>A config-only change: no install step, the config is changed by this command.</summary>
    public CommandTemplate? ConfigChange { get; init; }

    /// <summary>
    /// MongooseIM: the hops ("6.3.1->6.3.2") whose database migration the operator has applied; a run crossing a
    /// hop with a schema change refuses to touch a node until it is listed.
    /// </summary>
    public IReadOnlyList<string> MigrationsApplied { get; init; } = [];

    /// <summary>
    /// mnesia tables the operator accepts to be unavailable (and, in RAM only, emptied) while the only node holding
    /// them restarts; every other table must keep a running copy before a node stops.
    /// </summary>
    public IReadOnlyList<string> SingleCopyTables { get; init; } = [];
}
