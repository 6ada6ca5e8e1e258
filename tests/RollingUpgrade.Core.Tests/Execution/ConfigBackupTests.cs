using System.Diagnostics;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// The config backup of every file a node reads at start, one folder per run with a retention, run by a real
/// /bin/sh on real files.
/// </summary>
public sealed class ConfigBackupTests : IDisposable
{
    private const string Run1 = "20261101T100000Z-aaaaaa";
    private const string Run2 = "20261102T100000Z-bbbbbb";
    private const string Run3 = "20261103T100000Z-cccccc";

    private readonly string _etc = Directory.CreateTempSubdirectory("ru-backup-").FullName;

    public void Dispose() => Directory.Delete(_etc, recursive: true);

    private string Etc(string name) => Path.Combine(_etc, name);

    private string Folder(string run) => Path.Combine(_etc, "rollingupgrade-backups", run);

    private (string, bool)[] Files =>
        [(Etc("mongooseim.toml"), true), (Etc("vm.args"), false), (Etc("app.config"), false)];

    private static async Task<(int Exit, string Output, string Error)> RunAsync(IReadOnlyList<string> argv)
    {
        var info = new ProcessStartInfo(argv[0])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, error);
    }

    [Fact]
    public async Task Every_file_that_exists_is_copied_into_the_runs_folder_and_a_second_save_finds_them_there()
    {
        File.WriteAllText(Etc("mongooseim.toml"), "[general]\n");
        File.WriteAllText(Etc("vm.args"), "-sname mongooseim\n");

        (await RunAsync(ConfigBackup.Save(Folder(Run1), 5, Files))).Exit.ShouldBe(10);

        File.ReadAllText(Path.Combine(Folder(Run1), "mongooseim.toml")).ShouldBe("[general]\n");
        File.ReadAllText(Path.Combine(Folder(Run1), "vm.args")).ShouldBe("-sname mongooseim\n");
        File.Exists(Path.Combine(Folder(Run1), "app.config")).ShouldBeFalse("app.config does not exist here");
        (await RunAsync(ConfigBackup.Save(Folder(Run1), 5, Files))).Exit.ShouldBe(0);
    }

    [Fact]
    public async Task A_missing_required_file_is_an_error_naming_it()
    {
        var (exit, _, error) = await RunAsync(ConfigBackup.Save(Folder(Run1), 5, Files));

        exit.ShouldBe(13);
        error.ShouldContain("mongooseim.toml does not exist");
    }

    [Fact]
    public async Task Older_runs_beyond_the_retention_are_removed_and_the_current_run_is_kept()
    {
        File.WriteAllText(Etc("mongooseim.toml"), "a\n");
        await RunAsync(ConfigBackup.Save(Folder(Run1), 5, Files));
        await RunAsync(ConfigBackup.Save(Folder(Run2), 5, Files));
        Directory.CreateDirectory(Path.Combine(_etc, "rollingupgrade-backups", "not-a-run"));

        var (exit, output, _) = await RunAsync(ConfigBackup.Save(Folder(Run3), 2, Files));

        exit.ShouldBe(10);
        output.ShouldContain($"removed {Folder(Run1)}");
        Directory.Exists(Folder(Run1)).ShouldBeFalse();
        Directory.Exists(Folder(Run2)).ShouldBeTrue();
        Directory.Exists(Folder(Run3)).ShouldBeTrue();
        Directory.Exists(Path.Combine(_etc, "rollingupgrade-backups", "not-a-run")).ShouldBeTrue("not a run's folder");
        // Resuming an older run keeps its own folder whatever the retention says.
        await RunAsync(ConfigBackup.Save(Folder(Run1), 1, Files));
        Directory.Exists(Folder(Run1)).ShouldBeTrue();
        Directory.Exists(Folder(Run3)).ShouldBeTrue("the newest stays");
        Directory.Exists(Folder(Run2)).ShouldBeFalse();
    }

    [Fact]
    public async Task Changed_names_every_file_the_install_replaced_and_restore_puts_them_back()
    {
        File.WriteAllText(Etc("mongooseim.toml"), "mine\n");
        File.WriteAllText(Etc("vm.args"), "-setcookie mine\n");
        File.WriteAllText(Etc("app.config"), "[].\n");
        await RunAsync(ConfigBackup.Save(Folder(Run1), 5, Files));
        File.WriteAllText(Etc("vm.args"), "-setcookie package-default\n");
        File.WriteAllText(Etc("app.config"), "[{kernel, []}].\n");

        var (exit, output, _) = await RunAsync(ConfigBackup.Changed(Folder(Run1), Files));

        exit.ShouldBe(0);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe([Etc("vm.args"), Etc("app.config")]);
        (await RunAsync(ConfigBackup.Restore(Folder(Run1), Files))).Exit.ShouldBe(10);
        File.ReadAllText(Etc("vm.args")).ShouldBe("-setcookie mine\n");
        File.ReadAllText(Etc("app.config")).ShouldBe("[].\n");
        (await RunAsync(ConfigBackup.Changed(Folder(Run1), Files))).Output.ShouldBeEmpty();
    }

    [Fact]
    public async Task Without_a_backup_of_the_config_there_is_nothing_to_compare_or_restore()
    {
        File.WriteAllText(Etc("mongooseim.toml"), "mine\n");

        (await RunAsync(ConfigBackup.Changed(Folder(Run1), Files))).Exit.ShouldBe(13);
        (await RunAsync(ConfigBackup.Restore(Folder(Run1), Files))).Exit.ShouldBe(13);
    }

    [Fact]
    public async Task Paths_with_spaces_and_quotes_stay_one_argument()
    {
        var odd = Path.Combine(_etc, "my 'odd' dir");
        Directory.CreateDirectory(odd);
        File.WriteAllText(Path.Combine(odd, "ejabberd.yml"), "hosts: []\n");
        var folder = Path.Combine(odd, "rollingupgrade-backups", Run1);

        (await RunAsync(ConfigBackup.Save(folder, 5, [(Path.Combine(odd, "ejabberd.yml"), true)]))).Exit.ShouldBe(10);

        File.ReadAllText(Path.Combine(folder, "ejabberd.yml")).ShouldBe("hosts: []\n");
    }
}
