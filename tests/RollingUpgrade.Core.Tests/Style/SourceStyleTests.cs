namespace RollingUpgrade.Tests.Style;

/// <summary>
/// The code stays narrow and tidy: lines of product code at most 120 characters, and no Erlang
/// crash dump or other stray artefact in the tree.
/// </summary>
public sealed class SourceStyleTests
{
    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return dir.FullName;
    }

    private static IEnumerable<string> Sources(params string[] folders) =>
        folders
            .SelectMany(f => Directory.EnumerateFiles(Path.Combine(Root(), f), "*.cs", SearchOption.AllDirectories))
            .Where(p =>
                !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains(
                    $"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}",
                    StringComparison.Ordinal
                )
            );

    [Fact]
    public void Product_code_lines_are_at_most_120_characters()
    {
        var sources = Sources("src", "lb-adapters", "bench").ToList();
        var wide = sources
            .SelectMany(path => File.ReadLines(path).Select((line, i) => (path, line, number: i + 1)))
            .Where(l => l.line.Length > 120)
            .Select(l => $"{Path.GetRelativePath(Root(), l.path)}:{l.number} ({l.line.Length})")
            .ToList();

        sources.Count.ShouldBeGreaterThan(100);
        wide.ShouldBeEmpty("run `dotnet csharpier format .` and split long strings: " + string.Join(", ", wide));
    }

    [Fact]
    public void No_crash_dump_lies_in_the_tree()
    {
        Directory.EnumerateFiles(Root(), "erl_crash.dump", SearchOption.AllDirectories).ShouldBeEmpty();
    }
}
