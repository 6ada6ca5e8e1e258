using RollingUpgrade.Planning;
using RollingUpgrade.Plans;

namespace RollingUpgrade.Tests.Plans;

public sealed class ExamplePlanTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "deploy", "examples"), "*.toml"))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_plan_is_valid_and_plans_steps(string name)
    {
        var result = PlanLoader.LoadFile(Path.Combine(RepositoryRoot(), "deploy", "examples", name));

        result.Diagnostics.Where(d => !d.IsWarning).ShouldBeEmpty();
        Planner.Create(result.Plan!).Steps.ShouldNotBeEmpty();
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
