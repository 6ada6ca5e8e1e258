namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// The top-level docker-compose.yml as a user runs it, with `docker-compose` against the test daemon: a copy of
/// the compose file and the folders it builds from (with the single-file binary in deploy/docker/out, as the
/// README's publish step leaves it), a project name of its own, and the local Debian base (LAB_BASE). Brought
/// down with its volumes and images when disposed, whatever happened.
/// </summary>
public sealed class ComposeLab : IAsyncDisposable
{
    private readonly string _folder;
    private bool _up;

    public ComposeLab(string singleFile)
    {
        _folder = Directory.CreateTempSubdirectory("ru-compose-").FullName;
        Project = "rulab" + Guid.NewGuid().ToString("N")[..8];
        var root = Packages.RepositoryRoot;
        File.Copy(Path.Combine(root, "docker-compose.yml"), Path.Combine(_folder, "docker-compose.yml"));
        CopyFolder(Path.Combine(root, "deploy", "compose"), Path.Combine(_folder, "deploy", "compose"));
        Directory.CreateDirectory(Path.Combine(_folder, "deploy", "docker", "out"));
        File.Copy(
            Path.Combine(root, "deploy", "docker", "Dockerfile"),
            Path.Combine(_folder, "deploy", "docker", "Dockerfile")
        );
        File.Copy(singleFile, Path.Combine(_folder, "deploy", "docker", "out", "rollingupgrade"));
    }

    public string Project { get; }

    /// <summary>`docker-compose -p PROJECT ARGS` in the copy; exit code and output.</summary>
    public Task<(int Code, string Output)> RunAsync(params string[] args) =>
        Packages.TryRunAsync(
            "docker-compose",
            ["-p", Project, .. args],
            new Dictionary<string, string> { ["LAB_BASE"] = "local/debian:bookworm", ["COMPOSE_HTTP_TIMEOUT"] = "300" },
            _folder,
            TimeSpan.FromMinutes(15)
        );

    public async Task UpAsync()
    {
        _up = true;
        var (code, output) = await RunAsync("up", "-d", "--build");
        code.ShouldBe(0, output);
    }

    /// <summary>Waits until every node's entry point said it is ready (ejabberd started and joined, sshd up).</summary>
    public async Task WaitReadyAsync(IEnumerable<string> nodes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pending = nodes.ToList();
        while (pending.Count > 0)
        {
            var (_, logs) = await RunAsync(["logs", "--no-color", .. pending]);
            pending = pending.Where(n => !logs.Contains($"lab-node: {n} ready", StringComparison.Ordinal)).ToList();
            if (pending.Count == 0)
            {
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"not ready: {string.Join(", ", pending)}\n{logs}");
            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// Until every node's ejabberd reports "started": a node that logged its ready line may still restart its
    /// application (seen once: the run then refused to start, rightly, with "ej2 is not started").
    /// </summary>
    public async Task WaitStartedAsync(IEnumerable<string> nodes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var node in nodes)
        {
            while (true)
            {
                var (_, status) = await RunAsync("exec", "-T", node, "ejabberdctl", "status");
                if (status.Contains("is started", StringComparison.Ordinal))
                {
                    break;
                }

                DateTime.UtcNow.ShouldBeLessThan(deadline, $"{node} not started:\n{status}");
                await Task.Delay(1000);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_up)
        {
            await RunAsync("down", "--volumes", "--rmi", "all", "--remove-orphans", "--timeout", "5");
        }

        Directory.Delete(_folder, recursive: true);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.GetDirectories(from))
        {
            CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
