using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans.Binding;

internal sealed partial class PlanBinder
{
    private static readonly string[] SshOnlyKeys =
    [
        "user",
        "port",
        "key",
        "key_passphrase_env",
        "known_hosts",
        "host_key_fingerprint",
        "host_key_fingerprints",
        "allow_password",
        "password_env",
        "connect_timeout",
    ];

    private AccessSpec? BindAccess(TableCursor? table)
    {
        if (table is null)
        {
            return null;
        }

        var kind = table.Choice("kind", ["ssh", "local"], required: true);
        var spec = new AccessSpec { Kind = kind == "local" ? AccessKind.Local : AccessKind.Ssh };
        if (kind == "ssh")
        {
            var fingerprints = table.StringMap(
                "host_key_fingerprints",
                ValueRules.Fingerprint,
                "a pinned host key: " + ValueRules.Fingerprint(string.Empty)
            );
            if (Checked(table, "host_key_fingerprint", ValueRules.Fingerprint) is { } all)
            {
                fingerprints["*"] = all;
            }

            spec = spec with
            {
                User = Checked(table, "user", ValueRules.Name) ?? "root",
                Port = (int)(table.Integer("port", min: 1, max: 65535) ?? 22),
                KeyPath = Checked(table, "key", ValueRules.LocalPath),
                KeyPassphraseEnv = Checked(table, "key_passphrase_env", ValueRules.EnvName),
                KnownHostsPath = Checked(table, "known_hosts", ValueRules.LocalPath),
                HostKeyFingerprints = fingerprints,
                Sudo = table.Bool("sudo") ?? false,
                AllowPassword = table.Bool("allow_password") ?? false,
                PasswordEnv = Checked(table, "password_env", ValueRules.EnvName),
                ConnectTimeout = table.Duration("connect_timeout", positive: true) ?? spec.ConnectTimeout,
                CommandTimeout = table.Duration("command_timeout", positive: true) ?? spec.CommandTimeout,
            };

            if (
                spec.KnownHostsPath is null
                && spec.HostKeyFingerprints.Count == 0
                && !table.Has("host_key_fingerprint")
                && !table.Has("host_key_fingerprints")
            )
            {
                sink.Error(
                    table.Location,
                    "access over ssh needs 'access.known_hosts' or 'access.host_key_fingerprint': unknown host keys "
                        + "are never trusted"
                );
            }

            if (spec.KeyPath is null && !spec.AllowPassword)
            {
                sink.Error(
                    table.Location,
                    "access over ssh needs 'access.key' (a private key file); password login is used only with "
                        + "'allow_password = true' and 'password_env'"
                );
            }

            if (spec.AllowPassword && spec.PasswordEnv is null)
            {
                sink.Error(
                    table.LocationOf("allow_password"),
                    "'access.allow_password = true' needs 'access.password_env', the environment variable that holds "
                        + "the password"
                );
            }
        }
        else if (kind == "local")
        {
            spec = spec with
            {
                Sudo = table.Bool("sudo") ?? false,
                CommandTimeout = table.Duration("command_timeout", positive: true) ?? spec.CommandTimeout,
            };
            table.RejectKeysOfOtherKinds(SshOnlyKeys, "applies only to kind = \"ssh\"");
        }

        if (kind is null)
        {
            return null;
        }

        spec = spec with
        {
            MaxParallelCommands = (int)(
                table.Integer("max_parallel_commands", min: 1, max: 10_000) ?? spec.MaxParallelCommands
            ),
        };
        table.RejectUnknownKeys();
        return kind is null ? null : spec;
    }
}
