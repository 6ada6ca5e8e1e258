using System.Diagnostics;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Tests.Execution;

/// <summary>The engine's one-round-trip config backup, run by a real /bin/sh on real files.</summary>
public sealed class CopyAndCompareTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-copy-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static async Task<(int Exit, string Error)> RunAsync(IReadOnlyList<string> argv)
    {
        var info = new ProcessStartInfo(argv[0]) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, error);
    }

    [Fact]
    public async Task Copies_keeping_the_mode_then_finds_the_backup_already_holding_it()
    {
        var config = PathOf("my config.yml");
        File.WriteAllText(config, "listen: 5222\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var backup = PathOf("my config.yml.rollingupgrade-backup");

        (await RunAsync(StepRunner.CopyAndCompare(config, backup, skipWhenSame: true))).Exit.ShouldBe(10);
        File.ReadAllText(backup).ShouldBe("listen: 5222\n");
        File.GetUnixFileMode(backup).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        (await RunAsync(StepRunner.CopyAndCompare(config, backup, skipWhenSame: true))).Exit.ShouldBe(0);
        (await RunAsync(StepRunner.CopyAndCompare(config, backup, skipWhenSame: false))).Exit.ShouldBe(10);
    }

    [Fact]
    public async Task A_backup_that_differs_is_written_again()
    {
        var config = PathOf("a.yml");
        var backup = PathOf("a.yml.bak");
        File.WriteAllText(config, "new\n");
        File.WriteAllText(backup, "old\n");

        (await RunAsync(StepRunner.CopyAndCompare(config, backup, skipWhenSame: true))).Exit.ShouldBe(10);

        File.ReadAllText(backup).ShouldBe("new\n");
    }

    [Fact]
    public async Task A_missing_source_or_an_unwritable_target_is_exit_11_with_cps_words()
    {
        var missing = await RunAsync(
            StepRunner.CopyAndCompare(PathOf("absent.yml"), PathOf("b.yml"), skipWhenSame: true)
        );
        missing.Exit.ShouldBe(11);
        missing.Error.ShouldContain("absent.yml");

        File.WriteAllText(PathOf("c.yml"), "x\n");
        (
            await RunAsync(
                StepRunner.CopyAndCompare(PathOf("c.yml"), PathOf("no-such-folder/c.yml"), skipWhenSame: false)
            )
        ).Exit.ShouldBe(11);
    }
}
