using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>
/// Understands the commands the engine and the test plans send: cmp of the config file, the
/// engine's copy-and-compare script (StepRunner.CopyAndCompare, with its exit codes), its config backup
/// scripts (ConfigBackup.Save, Changed and Restore; file names as in the node's Files, "/etc/app.toml" its Config),
/// "install VERSION", "provision VERSION", "start-node", and "gate-ok"/"gate-fail".
/// </summary>
public sealed class FakeShell(FakeWorld world, NodeSpec spec) : INodeShell
{
    public async Task<CommandResult> RunAsync(
        IReadOnlyList<string> argv,
        CommandOptions options,
        CancellationToken cancellationToken
    )
    {
        if (argv[0] == "install" && world.Nodes[spec.Name].InstallTakes is { } takes)
        {
            await Task.Delay(takes, world.Time, cancellationToken);
        }

        return await RunNowAsync(argv);
    }

    private Task<CommandResult> RunNowAsync(IReadOnlyList<string> argv)
    {
        lock (world.Gate)
        {
            var node = world.Nodes[spec.Name];
            world.Commands.Add($"{spec.Name}: {string.Join(' ', argv)}");
            string Read(string path) =>
                path == "/etc/app.toml" ? node.Config : node.Files.GetValueOrDefault(path, "<missing>");
            void Write(string path, string content)
            {
                if (path == "/etc/app.toml")
                {
                    node.Config = content;
                }
                else
                {
                    node.Files[path] = content;
                }
            }

            var result = node.RefusesCommands
                ? Fail(1, "sudo: a password is required")
                : argv[0] switch
                {
                    "sh" when argv.Count == 6 && argv[3] == "rollingupgrade-copy" => CopyAndCompare(
                        argv[4],
                        argv[5],
                        skipWhenSame: argv[2].StartsWith("if cmp", StringComparison.Ordinal)
                    ),
                    "sh" when argv.Count > 4 && argv[3] == "rollingupgrade-backup" => Backup(argv[4], argv.Skip(6)),
                    "sh" when argv.Count > 4 && argv[3] == "rollingupgrade-changed" => Changed(argv[4], argv.Skip(5)),
                    "sh" when argv.Count > 4 && argv[3] == "rollingupgrade-restore" => Restore(argv[4], argv.Skip(5)),
                    "cmp" => Read(argv[3]) == Read(argv[4])
                    && node.Files.ContainsKey(argv[3] == "/etc/app.toml" ? argv[4] : argv[3])
                        ? Ok()
                        : Fail(1, "differ"),
                    "install" when node.FailInstall => Fail(1, "E: unable to fetch package"),
                    "install" => Install(argv[1]),
                    "reinstall" => Install(argv[1]),
                    "provision" => Provision(argv[1]),
                    "true" => Ok(),
                    "gate-ok" => Ok(),
                    "gate-fail" => Fail(1, "gate said no"),
                    _ => Fail(127, $"unknown command {argv[0]}"),
                };
            return Task.FromResult(result);

            CommandResult CopyAndCompare(string from, string to, bool skipWhenSame)
            {
                var content = Read(from);
                if (skipWhenSame && content != "<missing>" && Read(to) == content)
                {
                    return Ok();
                }

                if (content == "<missing>")
                {
                    return Fail(11, $"cp: cannot stat '{from}'");
                }

                Write(to, content);
                return new(10, string.Empty, string.Empty, TimeSpan.Zero);
            }

            string BackupOf(string folder, string file) => $"{folder}/{file[(file.LastIndexOf('/') + 1)..]}";

            CommandResult Backup(string folder, IEnumerable<string> files)
            {
                var copied = false;
                foreach (var argument in files)
                {
                    var file = argument.TrimStart('?');
                    if (Read(file) == "<missing>")
                    {
                        if (argument.StartsWith('?'))
                        {
                            continue;
                        }

                        return Fail(13, $"{file} does not exist");
                    }

                    if (Read(BackupOf(folder, file)) != Read(file))
                    {
                        Write(BackupOf(folder, file), Read(file));
                        copied = true;
                    }
                }

                return copied ? new(10, string.Empty, string.Empty, TimeSpan.Zero) : Ok();
            }

            CommandResult Changed(string folder, IEnumerable<string> files)
            {
                var list = files.Select(f => f.TrimStart('?')).ToList();
                if (Read(BackupOf(folder, list[0])) == "<missing>")
                {
                    return Fail(13, string.Empty);
                }

                var changed = list.Where(f =>
                    Read(BackupOf(folder, f)) != "<missing>" && Read(BackupOf(folder, f)) != Read(f)
                );
                return new(0, string.Join("\n", changed), string.Empty, TimeSpan.Zero);
            }

            CommandResult Restore(string folder, IEnumerable<string> files)
            {
                var list = files.Select(f => f.TrimStart('?')).ToList();
                if (Read(BackupOf(folder, list[0])) == "<missing>")
                {
                    return Fail(13, $"no backup {BackupOf(folder, list[0])}");
                }

                foreach (var file in list.Where(f => Read(BackupOf(folder, f)) != "<missing>"))
                {
                    Write(file, Read(BackupOf(folder, file)));
                }

                return new(10, string.Empty, string.Empty, TimeSpan.Zero);
            }

            CommandResult Install(string version)
            {
                node.InstalledVersion = version;
                node.Config = $"config-{version}";
                node.Installs++;
                return Ok();
            }

            CommandResult Provision(string version)
            {
                node.InstalledVersion = version;
                node.Installs++;
                return Ok();
            }
        }
    }

    private static CommandResult Ok() => new(0, string.Empty, string.Empty, TimeSpan.Zero);

    private static CommandResult Fail(int code, string error) => new(code, string.Empty, error, TimeSpan.Zero);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
