using RollingUpgrade.Plans;

namespace RollingUpgrade.Tests.Plans;

/// <summary>
/// Each BadPlans/NN-name.toml is a plan with a mistake; NN-name.expected lists every message
/// the validator must print for it, as LINE:COL: message, and nothing else.
/// </summary>
public sealed class BadPlanCorpusTests
{
    private static string Folder =>
        Path.Combine(ExamplePlanTests.RepositoryRoot(), "tests", "RollingUpgrade.Core.Tests", "Plans", "BadPlans");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Folder, "*.toml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Fact]
    public void The_corpus_holds_at_least_forty_bad_plans() => Cases().Count.ShouldBeGreaterThanOrEqualTo(40);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_plan_is_refused_with_exactly_the_expected_messages(string name)
    {
        var text = File.ReadAllText(Path.Combine(Folder, name + ".toml"));
        var expected = File.ReadAllLines(Path.Combine(Folder, name + ".expected")).Where(l => l.Length > 0).ToList();

        var result = PlanLoader.Load(text, name + ".toml");

        result.Succeeded.ShouldBeFalse();
        result.Plan.ShouldBeNull();
        expected.ShouldNotBeEmpty();
        result
            .Diagnostics.Select(d => d.ToString().Replace(name + ".toml:", string.Empty, StringComparison.Ordinal))
            .ShouldBe(expected);
    }
}
