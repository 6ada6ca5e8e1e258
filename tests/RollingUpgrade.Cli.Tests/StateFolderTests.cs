namespace RollingUpgrade.Tests;

/// <summary>
/// A state folder that is not what the tool made (a dangling link, a file where a folder belongs, a
/// <c>current</c> pointer that leads elsewhere) is bad input: exit 2, a message naming the path and
/// the fix, and no node touched.
/// </summary>
public sealed class StateFolderTests
{
    private static string StateRoot(LocalCluster cluster) => Path.Combine(cluster.Root, ".rollingupgrade");

    private static void NothingTouched(LocalCluster cluster)
    {
        for (var i = 1; i <= cluster.Nodes; i++)
        {
            cluster.Version(i).ShouldBe("1.0");
            cluster.Running(i).ShouldBeTrue();
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("run")]
    [InlineData("status")]
    [InlineData("resume")]
    public async Task A_dangling_state_folder_link_is_refused_naming_the_link(string command)
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        File.CreateSymbolicLink(StateRoot(cluster), Path.Combine(cluster.Root, "gone"));

        var result = await CliRunner.RunAsync(command, path);

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldContain(StateRoot(cluster));
        result.Error.ShouldContain("link to");
        result.Error.ShouldContain("does not exist");
        result.Error.ShouldNotContain("   at ");
        NothingTouched(cluster);
        Directory.Exists(Path.Combine(cluster.Root, "gone")).ShouldBeFalse();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("")]
    [InlineData("local")]
    [InlineData("local/runs")]
    public async Task A_file_where_a_state_folder_belongs_is_refused(string relative)
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var file = Path.Combine(StateRoot(cluster), relative);
        Directory.CreateDirectory(Path.GetDirectoryName(file.TrimEnd('/'))!);
        File.WriteAllText(file.TrimEnd('/'), "not a folder");

        foreach (var command in new[] { "run", "status" })
        {
            var result = await CliRunner.RunAsync(command, path);

            result.ExitCode.ShouldBe(2, command + ": " + result.Output + result.Error);
            result.Error.ShouldContain(file.TrimEnd('/'));
            result.Error.ShouldContain("is a file, not a folder");
            result.Error.ShouldNotContain("   at ");
        }

        NothingTouched(cluster);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("../../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a/b")]
    public async Task A_current_pointer_that_leads_outside_the_runs_folder_is_refused(string pointer)
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var clusterFolder = Path.Combine(StateRoot(cluster), "local");
        Directory.CreateDirectory(Path.Combine(clusterFolder, "runs"));
        File.WriteAllText(Path.Combine(clusterFolder, "current"), pointer);

        foreach (var command in new[] { "resume", "status", "run" })
        {
            var result = await CliRunner.RunAsync(command, path);

            result.ExitCode.ShouldBe(2, command + ": " + result.Output + result.Error);
            result.Error.ShouldContain(Path.Combine(clusterFolder, "current"));
            result.Error.ShouldContain("not a run id");
        }

        NothingTouched(cluster);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_journal_that_is_a_link_out_of_the_state_folder_is_refused()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var runs = Path.Combine(StateRoot(cluster), "local", "runs");
        Directory.CreateDirectory(runs);
        var elsewhere = Path.Combine(cluster.Root, "elsewhere.jsonl");
        File.WriteAllText(elsewhere, "");
        File.CreateSymbolicLink(Path.Combine(runs, "r1.jsonl"), elsewhere);
        File.WriteAllText(Path.Combine(StateRoot(cluster), "local", "current"), "r1");

        var result = await CliRunner.RunAsync("resume", path);

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldContain(Path.Combine(runs, "r1.jsonl"));
        result.Error.ShouldContain("outside");
        NothingTouched(cluster);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_state_folder_that_is_a_link_to_a_real_folder_is_used()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var real = Path.Combine(cluster.Root, "shared-state");
        Directory.CreateDirectory(real);
        File.CreateSymbolicLink(StateRoot(cluster), real);

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        Directory.GetFiles(Path.Combine(real, "local", "runs"), "*.jsonl").Length.ShouldBe(1);
        Directory.GetFiles(Path.Combine(real, "local", "runs"), "*.html").Length.ShouldBe(1, "the run's report");
    }
}
