using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>The SSH shell against a real OpenSSH sshd on loopback.</summary>
public sealed class SshShellTests : IDisposable
{
    private readonly SshdServer _sshd = new("127.0.0.21");
    private readonly string _knownHosts;

    public SshShellTests()
    {
        _knownHosts = Path.Combine(_sshd.Folder, "known_hosts");
        File.WriteAllText(_knownHosts, _sshd.KnownHostsLine + "\n");
    }

    public void Dispose() => _sshd.Dispose();

    private NodeSpec Node =>
        new("n1", _sshd.Address, "ej1@127.0.0.21", new Dictionary<string, string>()) { SshPort = _sshd.Port };

    private AccessSpec Access(
        string key = "ed25519",
        Dictionary<string, string>? pins = null,
        string? knownHosts = null,
        string? passphraseEnv = null
    ) =>
        new()
        {
            Kind = AccessKind.Ssh,
            User = "root",
            KeyPath = _sshd.ClientKey(key),
            KnownHostsPath = knownHosts ?? (pins is null ? _knownHosts : null),
            HostKeyFingerprints = pins ?? new Dictionary<string, string>(),
            KeyPassphraseEnv = passphraseEnv,
            ConnectTimeout = TimeSpan.FromSeconds(20),
        };

    private static readonly CommandOptions Quick = new(TimeSpan.FromSeconds(10));

    [Theory(Timeout = 60_000)]
    [InlineData("ed25519")]
    [InlineData("rsa")]
    [InlineData("ecdsa")]
    public async Task Runs_an_argument_vector_with_each_key_type(string keyType)
    {
        using var connection = new SshConnection(Node, Access(keyType), _sshd.Folder);
        var shell = new SshShell(connection);

        var result = await shell.RunAsync(["printf", "%s|", "a b", "it's", "$(id)"], Quick, CancellationToken.None);

        result.ExitCode.ShouldBe(0);
        result.StandardOutput.ShouldBe("a b|it's|$(id)|");
    }

    /// <summary>
    /// The SSH.NET in use lets shells receive their output without reader threads (the command's streams can be
    /// replaced); should an upgrade of it take that away, every shell falls back to two threads, and this says so.
    /// </summary>
    [Fact]
    public void Shells_receive_output_without_reader_threads_with_this_ssh_net() =>
        RemoteShell.ReceivesWithoutThreads.ShouldBeTrue();

    [Fact(Timeout = 60_000)]
    public async Task Exit_code_stdout_and_stderr_are_captured()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);

        var result = await new SshShell(connection).RunAsync(
            ["sh", "-c", "echo out; echo err >&2; exit 7"],
            Quick,
            CancellationToken.None
        );

        result.ExitCode.ShouldBe(7);
        result.StandardOutput.ShouldBe("out\n");
        result.StandardError.ShouldBe("err\n");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pinned_fingerprint_that_matches_is_trusted()
    {
        using var connection = new SshConnection(
            Node,
            Access(pins: new() { ["n1"] = _sshd.HostFingerprint }),
            _sshd.Folder
        );

        (await new SshShell(connection).RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_changed_host_key_is_refused_showing_the_fingerprint_and_how_to_pin_it()
    {
        var wrong = "SHA256:" + new string('A', 43);
        using var connection = new SshConnection(Node, Access(pins: new() { ["*"] = wrong }), _sshd.Folder);

        var error = await Should.ThrowAsync<HostKeyRefusedException>(() =>
            new SshShell(connection).RunAsync(["true"], Quick, CancellationToken.None)
        );

        error.Message.ShouldContain(_sshd.HostFingerprint);
        error.Message.ShouldContain("CHANGED");
        error.Message.ShouldContain("pin the new one");
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_host_key_is_never_trusted_on_first_use()
    {
        var empty = Path.Combine(_sshd.Folder, "empty_known_hosts");
        File.WriteAllText(empty, string.Empty);
        using var connection = new SshConnection(Node, Access(knownHosts: empty), _sshd.Folder);

        var error = await Should.ThrowAsync<HostKeyRefusedException>(() =>
            new SshShell(connection).RunAsync(["true"], Quick, CancellationToken.None)
        );

        error.Message.ShouldContain("is unknown");
        error.Message.ShouldContain($"access.host_key_fingerprints.n1 = \"{_sshd.HostFingerprint}\"");
        File.ReadAllText(empty).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_known_hosts_entry_with_another_key_is_reported_as_changed()
    {
        var other = Path.Combine(_sshd.Folder, "other_known_hosts");
        var fake = _sshd.KnownHostsLine.Split(' ');
        var bytes = Convert.FromBase64String(fake[2]);
        bytes[^1] ^= 0xFF;
        File.WriteAllText(other, $"{fake[0]} {fake[1]} {Convert.ToBase64String(bytes)}\n");
        using var connection = new SshConnection(Node, Access(knownHosts: other), _sshd.Folder);

        var error = await Should.ThrowAsync<HostKeyRefusedException>(() =>
            new SshShell(connection).RunAsync(["true"], Quick, CancellationToken.None)
        );

        error.Message.ShouldContain("CHANGED");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_that_runs_too_long_is_cancelled_at_its_timeout()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);

        var started = DateTime.UtcNow;
        await Should.ThrowAsync<TimeoutException>(() =>
            new SshShell(connection).RunAsync(
                ["sleep", "30"],
                new CommandOptions(TimeSpan.FromSeconds(1)),
                CancellationToken.None
            )
        );

        (DateTime.UtcNow - started).ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_runs_in_the_working_folder_it_is_given_also_under_sudo()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);

        var plain = await new SshShell(connection).RunAsync(
            ["pwd"],
            Quick with
            {
                WorkingDirectory = "/tmp",
            },
            CancellationToken.None
        );
        var sudo = await new SshShell(connection).RunAsync(
            ["pwd"],
            Quick with
            {
                WorkingDirectory = "/tmp",
                Sudo = true,
            },
            CancellationToken.None
        );

        plain.StandardOutput.ShouldBe("/tmp\n", plain.StandardError);
        sudo.StandardOutput.ShouldBe("/tmp\n", sudo.StandardError);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_that_ignores_sigterm_is_killed_with_its_children_on_the_node()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var folder = Directory.CreateTempSubdirectory("ru-ssh-group-").FullName;
        try
        {
            var script =
                $"trap '' TERM INT; echo $$ > {folder}/pids; (trap '' TERM INT; sleep 300) & echo $! >> {folder}/pids; sleep 300; wait";

            var error = await Should.ThrowAsync<TimeoutException>(() =>
                new SshShell(connection).RunAsync(
                    ["/bin/sh", "-c", script],
                    new CommandOptions(TimeSpan.FromSeconds(4)),
                    CancellationToken.None
                )
            );

            error.Message.ShouldContain("is gone");
            var pids = File.ReadAllLines(Path.Combine(folder, "pids"))
                .Where(l => l.Length > 0)
                .Select(int.Parse)
                .ToList();
            pids.Count.ShouldBe(2);
            pids.ShouldAllBe(pid => !ProcessGroupTimeoutTests.Alive(pid));
            (
                await new SshShell(connection).RunAsync(["echo", "next"], Quick, CancellationToken.None)
            ).StandardOutput.ShouldBe("next\n");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_cut_short_is_terminated_on_the_node_and_the_next_command_runs()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);

        await Should.ThrowAsync<TimeoutException>(() =>
            shell.RunAsync(["sleep", "31.25"], new CommandOptions(TimeSpan.FromSeconds(1)), CancellationToken.None)
        );

        // sshd runs on this machine: the sleep must be gone (pgrep only looks), once SIGTERM has landed.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await shell.RunAsync(["pgrep", "-f", "sleep 31.25"], Quick, CancellationToken.None)).ExitCode == 0)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the command cut short still runs on the node");
            await Task.Delay(100);
        }

        (await shell.RunAsync(["echo", "next"], Quick, CancellationToken.None)).StandardOutput.ShouldBe("next\n");
    }

    [Fact(Timeout = 60_000)]
    public async Task Commands_share_no_state_read_no_input_and_keep_their_output_exact()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);

        (
            await shell.RunAsync(
                ["/bin/sh", "-c", "cd /tmp && export RU_LEAK=1 && exit 3"],
                Quick,
                CancellationToken.None
            )
        ).ExitCode.ShouldBe(3);
        var after = await shell.RunAsync(
            ["/bin/sh", "-c", "pwd; echo ${RU_LEAK:-unset}"],
            Quick,
            CancellationToken.None
        );
        after.StandardOutput.ShouldBe("/root\nunset\n");

        var cat = await shell.RunAsync(["cat"], Quick, CancellationToken.None);
        (cat.ExitCode, cat.StandardOutput).ShouldBe((0, string.Empty));

        var lookalike = "__rollingupgrade_0123456789abcdef0123456789abcdef_7__ 0";
        (
            await shell.RunAsync(
                ["printf", "%s\n%s", lookalike, "no newline at the end"],
                Quick,
                CancellationToken.None
            )
        ).StandardOutput.ShouldBe($"{lookalike}\nno newline at the end");

        var both = await shell.RunAsync(
            ["/bin/sh", "-c", "echo out; echo err >&2; echo out2; exit 7"],
            Quick,
            CancellationToken.None
        );
        (both.ExitCode, both.StandardOutput, both.StandardError).ShouldBe((7, "out\nout2\n", "err\n"));

        (await shell.RunAsync(["no-such-command-here"], Quick, CancellationToken.None)).ExitCode.ShouldBe(127);
        (
            await shell.RunAsync(["head", "-c", "3000000", "/dev/zero"], Quick, CancellationToken.None)
        ).StandardOutput.Length.ShouldBe(3_000_000);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_daemon_left_writing_to_its_inherited_output_neither_blocks_its_command_nor_leaks_into_the_next()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);

        var start = await shell.RunAsync(
            ["/bin/sh", "-c", "(sleep 0.3; echo stray; echo stray-err >&2) & echo started"],
            Quick,
            CancellationToken.None
        );
        start.StandardOutput.ShouldBe("started\n");
        await Task.Delay(800);

        var next = await shell.RunAsync(
            ["/bin/sh", "-c", "echo next; echo next-err >&2"],
            Quick,
            CancellationToken.None
        );
        (next.StandardOutput, next.StandardError).ShouldBe(("next\n", "next-err\n"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Commands_run_at_once_on_one_node_each_get_their_own_output()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);

        var results = await Task.WhenAll(
            Enumerable
                .Range(1, 6)
                .Select(i =>
                    new SshShell(connection).RunAsync(
                        ["/bin/sh", "-c", $"sleep 0.2; echo {i}; echo e{i} >&2"],
                        Quick,
                        CancellationToken.None
                    )
                )
        );

        results.Select(r => r.StandardOutput).ShouldBe(Enumerable.Range(1, 6).Select(i => $"{i}\n"));
        results.Select(r => r.StandardError).ShouldBe(Enumerable.Range(1, 6).Select(i => $"e{i}\n"));
        _sshd.Log.Split('\n').Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_dropped_connection_is_reported_and_the_next_command_reconnects()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);
        (await shell.RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);

        _sshd.Stop();
        var running = shell.RunAsync(["sleep", "5"], Quick, CancellationToken.None);
        await Task.Delay(300);
        _sshd.Start();

        await Should.ThrowAsync<Exception>(async () => await running);
        (await shell.RunAsync(["echo", "again"], Quick, CancellationToken.None)).StandardOutput.ShouldBe("again\n");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_that_goes_silent_is_reported_as_such_not_as_a_command_timeout()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);
        (await shell.RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);

        // The session's sshd processes stop (SIGSTOP, by pid): the TCP connection stays up and carries nothing back,
        // as over a partition or from a hung host.
        var sessions = Descendants(_sshd.ProcessId!.Value);
        sessions.ShouldNotBeEmpty();
        Signal("STOP", sessions);
        try
        {
            var silent = await Should.ThrowAsync<TransientException>(() =>
                shell.RunAsync(["true"], new CommandOptions(TimeSpan.FromSeconds(40)), CancellationToken.None)
            );

            silent.Message.ShouldContain("nothing came back within 10s of sending the command");
            silent.Message.ShouldContain("whether it started on the node is unknown");
        }
        finally
        {
            Signal("CONT", sessions);
        }

        (await shell.RunAsync(["echo", "again"], Quick, CancellationToken.None)).StandardOutput.ShouldBe("again\n");
    }

    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    // pid (comm) state ppid ...: comm may hold spaces, so the fields after its ')' are read.
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                }
                catch (IOException)
                {
                    // Gone meanwhile.
                }
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var child in parents.Where(p => p.Value == parent).Select(p => p.Key))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }

    private static void Signal(string signal, IEnumerable<int> pids)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", .. pids.Select(p => p.ToString())]);
        kill!.WaitForExit();
    }

    [Fact(Timeout = 60_000)]
    public async Task Reaching_a_node_opens_the_connection_later_commands_use_and_refuses_an_unknown_host_key()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);

        (await shell.ReachAsync(Quick, CancellationToken.None)).ExitCode.ShouldBe(0);
        var client = await connection.ConnectedClientAsync(CancellationToken.None);
        (await shell.RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);
        (await connection.ConnectedClientAsync(CancellationToken.None)).ShouldBeSameAs(client);
        (
            await shell.ReachAsync(new CommandOptions(TimeSpan.FromSeconds(10), Sudo: true), CancellationToken.None)
        ).ExitCode.ShouldBe(0);

        var empty = Path.Combine(_sshd.Folder, "no_known_hosts");
        File.WriteAllText(empty, string.Empty);
        using var stranger = new SshConnection(Node, Access(knownHosts: empty), _sshd.Folder);
        await Should.ThrowAsync<HostKeyRefusedException>(() =>
            new SshShell(stranger).ReachAsync(Quick, CancellationToken.None)
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task Sudo_is_non_interactive()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);

        var result = await new SshShell(connection).RunAsync(
            ["id", "-u"],
            new CommandOptions(TimeSpan.FromSeconds(10), Sudo: true),
            CancellationToken.None
        );

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.Trim().ShouldBe("0");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_passphrase_comes_from_the_environment_and_its_absence_is_explained()
    {
        using (var missing = new SshConnection(Node, Access("protected"), _sshd.Folder))
        {
            var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
                new SshShell(missing).RunAsync(["true"], Quick, CancellationToken.None)
            );
            error.Message.ShouldContain("key_passphrase_env");
        }

        Environment.SetEnvironmentVariable("RU_TEST_SSH_PASSPHRASE", SshdServer.Passphrase);
        using var connection = new SshConnection(
            Node,
            Access("protected", passphraseEnv: "RU_TEST_SSH_PASSPHRASE"),
            _sshd.Folder
        );
        (await new SshShell(connection).RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task One_connection_is_reused_across_commands()
    {
        using var connection = new SshConnection(Node, Access(), _sshd.Folder);
        var shell = new SshShell(connection);

        for (var i = 0; i < 5; i++)
        {
            (await shell.RunAsync(["true"], Quick, CancellationToken.None)).ExitCode.ShouldBe(0);
        }

        _sshd.Log.Split('\n').Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal)).ShouldBe(1);
    }
}
