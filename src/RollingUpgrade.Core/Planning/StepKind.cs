namespace RollingUpgrade.Planning;

public enum StepKind
{
    CheckCluster,
    ListMigrations,
    Drain,
    WaitDrained,
    Stop,
    BackupConfig,
    Install,
    ChangeConfig,
    Start,
    VerifyNode,
    RunGates,
    Enable,
    PreferUpgraded,
    Pause,
    VerifyCluster,
    RestoreConfig,
    RollbackInstall,
    ProvisionGreen,
    JoinGreen,
    VerifyGreen,
    RegisterGreen,
    ShiftTraffic,
    AwaitPromote,
    StopBlue,
}
