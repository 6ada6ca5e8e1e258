using RollingUpgrade.Planning;

namespace RollingUpgrade.Tests.Planning;

public sealed class MigrationCatalogTests
{
    [Fact]
    public void Lists_every_consecutive_guide_between_two_versions() =>
        MigrationCatalog
            .Between("3.7.0", "4.1.0")
            .Select(g => g.Name)
            .ShouldBe(["3.7.0_4.0.0", "4.0.0_4.0.1", "4.0.1_4.1.0"]);

    [Fact]
    public void Marks_database_migrations_and_hops_where_rolling_is_not_supported()
    {
        var guides = MigrationCatalog.Between("6.0.0", "6.4.0");

        guides.Where(g => g.RollingUnsupported).Select(g => g.Name).ShouldBe(["6.0.0_6.1.0", "6.3.1_6.3.2"]);
        guides
            .Where(g => g.HasDatabaseMigration)
            .Select(g => g.Name)
            .ShouldBe(["6.1.0_6.2.0", "6.2.0_6.2.1", "6.3.1_6.3.2"]);
    }

    [Theory]
    [InlineData("6.3.0", "6.3.0")]
    [InlineData("6.4.0", "6.3.0")]
    [InlineData("6.3.2", "6.4.0")]
    public void No_guide_when_there_is_no_hop_or_upstream_has_none(string from, string to) =>
        MigrationCatalog.Between(from, to).Where(g => g.Name == "6.3.2_6.3.3").ShouldBeEmpty();

    [Fact]
    public void A_development_build_version_counts_as_its_release() =>
        MigrationCatalog
            .Between("6.2.1-12-gabc1234", "6.3.1")
            .Select(g => g.Name)
            .ShouldBe(["6.2.1_6.3.0", "6.3.0_6.3.1"]);
}
