using RollingUpgrade.Plans;

namespace RollingUpgrade.Planning;

/// <summary>
/// MongooseIM's migration guides in version order, from upstream doc/migrations/. A hop from
/// the current to the target version must apply every guide in between.
/// </summary>
internal static class MigrationCatalog
{
    public static readonly IReadOnlyList<MigrationGuide> Guides =
    [
        new("3.1.1", "3.2.0", "odbc renamed rdbms; ejabberd.cfg renamed mongooseim.cfg", false, false),
        new("3.3.0", "3.4.0", "MAM MUC sender id", true, false),
        new(
            "3.5.0",
            "3.6.0",
            "MUC Light schema config, push; offline_message.permanent_fields column, mongoose_cluster_id table",
            true,
            false
        ),
        new("3.6.0", "3.7.0", "SCRAM formats, RDBMS MUC; origin_id columns and indexes on MAM tables", true, false),
        new("3.7.0", "4.0.0", "TOML config introduced; lager replaced by Logger", false, false),
        new("4.0.0", "4.0.1", "TOML option fixes", false, false),
        new("4.0.1", "4.1.0", ".cfg config support removed", false, false),
        new("4.1.0", "4.2.0", "inbox columns; auth_token table", true, false),
        new("4.2.0", "5.0.0", "large schema change; general.default_server_domain is mandatory", true, false),
        new("5.0.0", "5.1.0", "config changes (verify_mode); inbox box", true, false),
        new("5.1.0", "6.0.0", "domain status; mod_mam_meta renamed mod_mam; REST handler rename", true, false),
        new(
            "6.0.0",
            "6.1.0",
            "new c2s wire format between nodes: a rolling upgrade floods the logs and loses stanzas",
            false,
            true,
            "the guide's split-cluster rolling upgrade (remove each node from the cluster before upgrading it and "
                + "form a new cluster from the upgraded nodes), or strategy kind = \"parallel\" (a new cluster)"
        ),
        new("6.1.0", "6.2.0", "discovery_nodes; legacy CLI removed; TLS option validation", true, false),
        new(
            "6.2.0",
            "6.2.1",
            "MAM, roster, caps, discovery; CETS nodes of different versions do not connect",
            true,
            false
        ),
        new("6.2.1", "6.3.0", "[instrumentation] config", false, false),
        new("6.3.0", "6.3.1", "config only", false, false),
        new(
            "6.3.1",
            "6.3.2",
            "fast_auth_token table; exml 4.1: rolling upgrade not viable",
            true,
            true,
            "a new cluster from the upgraded nodes (with CETS: change internal_databases.cets.cluster_name on each "
                + "upgraded node, as the guide describes), or strategy kind = \"parallel\" (a new cluster)"
        ),
        new("6.3.3", "6.4.0", "config (shapers, TLS)", false, false),
        new("6.4.0", "6.5.0", "config", false, false),
        new(
            "6.5.0",
            "6.6.0",
            "blocklist; admin and client REST API removed; mod_bosh/mod_websockets renamed",
            true,
            false
        ),
        new(
            "6.6.0",
            "6.7.0",
            "mod_caps reimplemented on CETS: where mod_caps runs, the cets internal database is required; config",
            false,
            false
        ),
        new("6.7.0", "6.8.0", "pubsub/broadcast; newer OTP required", true, false),
    ];

    /// <summary>The guide for a hop written "6.3.1->6.3.2" (or as its file name, "6.3.1_6.3.2").</summary>
    public static MigrationGuide? Find(string hop) =>
        Guides.FirstOrDefault(g => g.Hop == hop.Trim() || g.Name == hop.Trim());

    /// <summary>
    /// Hops where upstream refuses a rolling upgrade, for this internal database: CETS nodes of 6.2.0 and 6.2.1
    /// do not connect.
    /// </summary>
    public static IReadOnlyList<MigrationGuide> Blocking(IEnumerable<MigrationGuide> guides, string internalDatabase) =>
        guides
            .Where(g =>
                g.RollingUnsupported
                || (internalDatabase.Contains("cets", StringComparison.Ordinal) && g.Name == "6.2.0_6.2.1")
            )
            .ToList();

    /// <summary>What to do instead of a rolling upgrade across <paramref name="blocking"/>.</summary>
    public static string Instead(IReadOnlyList<MigrationGuide> blocking) =>
        string.Join(
            "; ",
            blocking.Select(g =>
                $"for {g.Hop}: "
                + (
                    g.Alternatives
                    ?? "a new cluster formed with another internal_databases.cets.cluster_name, or strategy kind = "
                        + "\"parallel\" (a new cluster)"
                )
            )
        );

    /// <summary>The guides whose hop lies within (from, to].</summary>
    public static IReadOnlyList<MigrationGuide> Between(string from, string to)
    {
        if (!Versions.TryParse(from, out var f) || !Versions.TryParse(to, out var t) || t <= f)
        {
            return [];
        }

        return Guides
            .Where(g =>
            {
                Versions.TryParse(g.From, out var gFrom);
                Versions.TryParse(g.To, out var gTo);
                return gFrom >= f && gTo <= t;
            })
            .ToList();
    }
}
