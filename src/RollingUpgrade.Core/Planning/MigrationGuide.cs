namespace RollingUpgrade.Planning;

/// <summary>One of MongooseIM's consecutive migration guides (doc/migrations/FROM_TO.md).</summary>
/// <param name="Alternatives">For a hop upstream says not to roll: what upstream offers instead.</param>
public sealed record MigrationGuide(
    string From,
    string To,
    string Summary,
    bool HasDatabaseMigration,
    bool RollingUnsupported,
    string? Alternatives = null
)
{
    /// <summary>The guide's file name: 6.3.1_6.3.2.</summary>
    public string Name => $"{From}_{To}";

    /// <summary>How a plan names the hop in upgrade.migrations_applied: 6.3.1->6.3.2.</summary>
    public string Hop => $"{From}->{To}";
}
