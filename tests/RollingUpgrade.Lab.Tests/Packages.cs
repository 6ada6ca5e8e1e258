namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// The tool as people install it: the .NET tool package (`dotnet pack`) and the self-contained single-file binary for
/// linux-x64 (`dotnet publish`). tests/run-all.sh makes them before the lab's tests start (they need NuGet, which
/// the lab's network namespace cannot reach) and names the folder in ROLLINGUPGRADE_PACKAGES; run alone, the
/// fixture makes them itself in a temporary folder.
/// </summary>
public sealed class Packages : IAsyncLifetime
{
    private readonly string? _given = Environment.GetEnvironmentVariable("ROLLINGUPGRADE_PACKAGES");
    private readonly string _folder;

    public Packages() => _folder = _given ?? Directory.CreateTempSubdirectory("ru-packages-").FullName;

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
            {
                dir = dir.Parent;
            }

            return dir.FullName;
        }
    }

    /// <summary>The folder holding RollingUpgrade.&lt;version&gt;.nupkg.</summary>
    public string PackageFolder => Path.Combine(_folder, "nupkg");

    /// <summary>The single-file binary.</summary>
    public string SingleFile => Path.Combine(_folder, "single", "rollingupgrade");

    public async Task InitializeAsync()
    {
        if (_given is not null)
        {
            return;
        }

        await RunAsync("bash", [Path.Combine(RepositoryRoot, "tests", "tools", "make-packages.sh"), _folder]);
    }

    public Task DisposeAsync()
    {
        if (_given is null)
        {
            Directory.Delete(_folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Runs a command to its end (10 minutes at most) and returns its exit code and output.</summary>
    public static async Task<(int Code, string Output)> TryRunAsync(
        string file,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null
    )
    {
        using var child = Testing.ChildProcess.Start(file, args, environment, workingDirectory ?? RepositoryRoot);
        var code = await child.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(10));
        return (code, child.Output);
    }

    public static async Task<string> RunAsync(
        string file,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        var list = args.ToList();
        var (code, output) = await TryRunAsync(file, list, environment);
        code.ShouldBe(0, $"{file} {string.Join(' ', list)}:\n{output}");
        return output;
    }
}

// Alone, after the fault scenarios: the demo and the compose lab count failed client operations, which a busy
// machine would add.
[CollectionDefinition(nameof(Packages), DisableParallelization = true)]
public sealed class PackagesCollection : ICollectionFixture<Packages>;
