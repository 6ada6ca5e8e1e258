namespace RollingUpgrade.Planning;

/// <summary>One of MongooseIM's consecutive migration guides (doc/migrations/FROM_TO.md).</summary>
public sealed record MigrationGuide(
    string From,
    string To,
    string Summary,
    bool HasDatabaseMigration,
    bool RollingUnsupported
)
{
    public string Name => $"{From}_{To}";
}
