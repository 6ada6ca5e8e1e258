namespace RollingUpgrade.Tests;

/// <summary>
/// Journals written by release 84bc8e7 (before steps carried their phase and version) resume
/// with this one. The fixtures are the plan and journal of real runs of that release on local
/// nodes in /tmp/ru-journal-compat-*; the test lays the nodes out as those runs left them.
/// </summary>
public sealed class OldJournalTests
{
    private static string Fixture(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir.FullName, "tests", "RollingUpgrade.Cli.Tests", "Fixtures", "journal-v1", name);
    }

    /// <summary>The nodes, plan, journal and current pointer as the old release left them.</summary>
    private static string LayOut(string kind, string n1Version)
    {
        var root = $"/tmp/ru-journal-compat-{kind}";
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        foreach (
            var (node, version, running) in new[] { ("n1", n1Version, true), ("n2", "1.0", false), ("n3", "1.0", true) }
        )
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, node)).FullName;
            File.WriteAllText(Path.Combine(dir, "version"), version + "\n");
            File.WriteAllText(Path.Combine(dir, "installed"), version + "\n");
            if (running)
            {
                File.WriteAllText(Path.Combine(dir, "running"), string.Empty);
            }
        }

        File.Copy(Fixture($"{kind}.plan.toml"), Path.Combine(root, "plan.toml"));
        var journal = File.ReadAllText(Fixture($"{kind}.jsonl"));
        var runId = journal[(journal.IndexOf("\"run\":\"", StringComparison.Ordinal) + 7)..].Split('"')[0];
        var runs = Directory.CreateDirectory(Path.Combine(root, ".rollingupgrade", "compat", "runs")).FullName;
        File.WriteAllText(Path.Combine(runs, runId + ".jsonl"), journal);
        File.WriteAllText(Path.Combine(root, ".rollingupgrade", "compat", "current"), runId);
        return root;
    }

    private static string Version(string root, string node) =>
        File.ReadAllText(Path.Combine(root, node, "version")).Trim();

    private static string[] Starts(string root) => File.ReadAllLines(Path.Combine(root, "starts.log"));

    [Fact(Timeout = 60_000)]
    public async Task A_run_halted_by_the_old_release_resumes_to_the_end()
    {
        var root = LayOut("halt", n1Version: "2.0");
        try
        {
            var result = await CliRunner.RunAsync("resume", Path.Combine(root, "plan.toml"), "--retry-in-flight");

            result.ExitCode.ShouldBe(0, result.Output + result.Error);
            new[] { "n1", "n2", "n3" }.ShouldAllBe(n => Version(root, n) == "2.0");
            Starts(root).ShouldBe(["start n2 2.0", "start n3 2.0"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rollback_halted_by_the_old_release_resumes_on_the_previous_version()
    {
        var root = LayOut("rollback", n1Version: "2.0");
        try
        {
            var result = await CliRunner.RunAsync("resume", Path.Combine(root, "plan.toml"), "--retry-in-flight");

            result.ExitCode.ShouldBe(1, result.Output + result.Error);
            (result.Output + result.Error).ShouldContain("ROLLED BACK");
            new[] { "n1", "n2", "n3" }.ShouldAllBe(n => Version(root, n) == "1.0");
            Starts(root).ShouldBe(["start n2 1.0", "start n1 1.0"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
