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
            BackupDir = Checked(table, "backup_dir", PathWithNodePlaceholders),
            BackupKeep = (int)(table.Integer("backup_keep", min: 1, max: 1000) ?? 5),
            OnConfigOverwritten = table.Choice("on_config_overwritten", ["warn", "halt"], fallback: "warn") ?? "warn",
            ConfigChange = Command(table, "config_change"),
            MigrationsApplied = BindMigrationsApplied(table),
            SingleCopyTables = BindTableNames(table, "single_copy_tables"),
        };
        table.RejectUnknownKeys();
        return target is null ? null : spec;
    }

    /// <summary>mnesia table names, Erlang atoms: letters, digits, '_', '.', '@' and '-'.</summary>
    private List<string> BindTableNames(TableCursor table, string key)
    {
        var result = new List<string>();
        foreach (var name in table.StringArray(key) ?? [])
        {
            if (ValueRules.TableName(name) is { } problem)
            {
                sink.Error(
                    table.LocationOf(key),
                    $"'{table.Describe(key)}' entry '{TableCursor.Shorten(name)}' {problem}"
                );
            }
            else
            {
                result.Add(name);
            }
        }

        return result;
    }

    /// <summary>upgrade.migrations_applied: each entry a hop of the catalog that has a database migration.</summary>
    private List<string> BindMigrationsApplied(TableCursor table)
    {
        var hops = table.StringArray("migrations_applied") ?? [];
        var withSchema = Planning.MigrationCatalog.Guides.Where(g => g.HasDatabaseMigration).ToList();
        var result = new List<string>();
        foreach (var hop in hops)
        {
            var guide = Planning.MigrationCatalog.Find(hop);
            if (guide is null)
            {
                sink.Error(
                    table.LocationOf("migrations_applied"),
                    $"'{table.Describe("migrations_applied")}' entry '{TableCursor.Shorten(hop)}' is not a MongooseIM "
                        + "migration hop; write it as \"FROM->TO\" of a guide with a database migration"
                        + Suggestions.DidYouMean(hop, withSchema.Select(g => g.Hop))
                );
            }
            else if (!guide.HasDatabaseMigration)
            {
                sink.Error(
                    table.LocationOf("migrations_applied"),
                    $"'{table.Describe("migrations_applied")}' entry '{hop}': that guide has no database migration; "
                        + "remove the entry"
                );
            }
            else
            {
                result.Add(guide.Hop);
            }
        }

        return result;
    }
}
