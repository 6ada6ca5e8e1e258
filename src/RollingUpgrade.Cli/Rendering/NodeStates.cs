namespace RollingUpgrade.Cli.Rendering;

/// <summary>A node's state in words, from the kind of step that starts or ends on it (live view and metrics).</summary>
internal static class NodeStates
{
    /// <summary>While a step of this kind runs on the node.</summary>
    public static string? Starting(string? kind, string? phase) =>
        kind switch
        {
            "Drain" or "WaitDrained" => "draining",
            "Stop" or "StopBlue" => "stopping",
            "BackupConfig" or "RestoreConfig" => "backing up config",
            "Install" or "ChangeConfig" or "RollbackInstall" => "installing",
            "Start" => "starting",
            "ProvisionGreen" => "provisioning",
            "JoinGreen" => "joining",
            "VerifyNode" or "VerifyGreen" or "RunGates" => "verifying",
            "Enable" or "RegisterGreen" => phase == "rollback" ? "returning" : "entering rotation",
            _ => null,
        };

    public static string? Done(string? kind, string? phase) =>
        kind switch
        {
            "Drain" => "draining",
            "WaitDrained" => "drained",
            "Stop" or "StopBlue" => "stopped",
            "Install" or "RollbackInstall" => "installed",
            "Start" or "ProvisionGreen" => "started",
            "JoinGreen" => "joined",
            "VerifyNode" or "VerifyGreen" => "verified",
            "Enable" => phase == "rollback" ? "serving" : "in rotation",
            "RegisterGreen" => "registered (no traffic yet)",
            _ => null,
        };
}
