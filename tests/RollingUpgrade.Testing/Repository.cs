namespace RollingUpgrade.Testing;

/// <summary>The repository's root folder: the first folder above the test's binaries that holds RollingUpgrade.sln.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("RollingUpgrade.sln not found above the tests");
    }
}
