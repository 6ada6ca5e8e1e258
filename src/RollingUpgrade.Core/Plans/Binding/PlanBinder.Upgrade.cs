using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private UpgradeSpec? BindUpgrade(TableCursor? table)
    {
        if (table is null)
        {
            return null;
        }

        var target = Checked(table, "target_version", ValueRules.Version, required: true);
        var spec = new UpgradeSpec
        {
            TargetVersion = target ?? string.Empty,
            FromVersion = Checked(table, "from_version", ValueRules.Version),
            Install = Command(table, "install"),
            InstallIsIdempotent = table.Bool("install_is_idempotent") ?? false,
            RollbackInstall = Command(table, "rollback_install"),
            BackupConfig = table.Bool("backup_config") ?? true,
            ConfigChange = Command(table, "config_change"),
        };
        table.RejectUnknownKeys();
        return target is null ? null : spec;
    }
}
