using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The real CLI as a child process, signalled during a node command: the first SIGINT, SIGTERM or
/// SIGHUP waits for the command and stops at the next safe point; a second one ends the command's
/// process group. Either way the journal says interrupted, the lock is released, the exit code is
/// 130, no command outlives the CLI, and resume finishes the run.
/// </summary>
public sealed class SignalTests
{
    private static ChildProcess Start(string plan) =>
        ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll"), "run", plan]);

    private static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start(
            "kill",
            ["-s", signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]
        )!;
        kill.WaitForExit();
    }

    private static async Task WaitForFileAsync(string path, ChildProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new TimeoutException($"{path} never appeared; the CLI said:\n{process.Output}");
            }

            await Task.Delay(50);
        }
    }

    private static IReadOnlyList<JournalRecord> Journal(LocalCluster cluster, string output)
    {
        var state = new StateDirectory(Path.Combine(cluster.Root, ".rollingupgrade"), "local");
        File.Exists(state.LockPath).ShouldBeFalse("the lock is released; the CLI said:\n" + output);
        return RollingUpgrade.Journaling.Journal.Read(state.JournalPath(state.CurrentRunId()!));
    }

    [Theory(Timeout = 120_000)]
    [InlineData("TERM")]
    [InlineData("HUP")]
    [InlineData("INT")]
    public async Task A_first_signal_waits_for_the_running_command_then_stops_at_a_safe_point(string signal)
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan(
            install: "touch {var.dir}/install-started; sleep 2; echo {version} > {var.dir}/installed; touch {var.dir}/install-done"
        );
        using var cli = Start(path);
        await WaitForFileAsync(Path.Combine(cluster.NodeDir(1), "install-started"), cli);

        Signal(cli.Id, signal);
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));

        code.ShouldBe(130, cli.Output);
        File.Exists(Path.Combine(cluster.NodeDir(1), "install-done")).ShouldBeTrue("the install was waited for");
        var last = Journal(cluster, cli.Output)[^1];
        last.Type.ShouldBe(JournalTypes.RunFinished);
        last.Data!["outcome"].ShouldBe("interrupted");
        cli.Output.ShouldContain("rollingupgrade resume");

        var resumed = await CliRunner.RunAsync("resume", path);
        resumed.ExitCode.ShouldBe(0, resumed.Output + resumed.Error);
        Enumerable.Range(1, 3).ShouldAllBe(i => cluster.Version(i) == "2.0");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_second_signal_ends_the_running_command_and_nothing_outlives_the_cli()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan(
            install: "echo $$ > {var.dir}/install-pid; if [ {node} = n1 ] && [ ! -f {var.dir}/install-started ]; then touch {var.dir}/install-started; "
                + "sleep 60; touch {var.dir}/install-done; fi; echo {version} > {var.dir}/installed"
        );
        using var cli = Start(path);
        await WaitForFileAsync(Path.Combine(cluster.NodeDir(1), "install-started"), cli);

        Signal(cli.Id, "TERM");
        await Task.Delay(500);
        Signal(cli.Id, "TERM");
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));

        code.ShouldBe(130, cli.Output);
        File.Exists(Path.Combine(cluster.NodeDir(1), "install-done")).ShouldBeFalse();
        var pid = int.Parse(
            File.ReadAllText(Path.Combine(cluster.NodeDir(1), "install-pid")).Trim(),
            System.Globalization.CultureInfo.InvariantCulture
        );
        // Once the CLI is gone its killed children are reaped by init; nothing of the install may still run.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Directory.Exists($"/proc/{pid}").ShouldBeFalse("the install's process group was ended");
        Journal(cluster, cli.Output)[^1].Data!["outcome"].ShouldBe("interrupted");

        var resumed = await CliRunner.RunAsync("resume", path, "--retry-in-flight");
        resumed.ExitCode.ShouldBe(0, resumed.Output + resumed.Error);
        Enumerable.Range(1, 3).ShouldAllBe(i => cluster.Version(i) == "2.0");
    }
}
