using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>
/// A command past its timeout is ended with everything it forked, even when it ignores SIGTERM
/// and SIGINT (SIGKILL after the grace period), and the shell says so only once it is gone.
/// </summary>
public sealed class ProcessGroupTimeoutTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-group-").FullName;

    /// <summary>A script that ignores TERM and INT, forks a child that ignores them too, and writes both pids.</summary>
    internal string Stubborn =>
        $"trap '' TERM INT; echo $$ > {_folder}/pids; (trap '' TERM INT; sleep 300) & echo $! >> {_folder}/pids; sleep 300; wait";

    internal IReadOnlyList<int> Pids() =>
        File.ReadAllLines(Path.Combine(_folder, "pids")).Where(l => l.Length > 0).Select(int.Parse).ToList();

    internal static bool Alive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        return File.Exists(stat) && File.ReadAllText(stat).Split(' ')[2] != "Z";
    }

    [Fact(Timeout = 60_000)]
    public async Task A_local_command_that_ignores_sigterm_is_killed_with_its_children_after_the_grace_period()
    {
        var started = DateTime.UtcNow;

        var error = await Should.ThrowAsync<TimeoutException>(() =>
            new LocalShell().RunAsync(
                ["/bin/sh", "-c", Stubborn],
                new CommandOptions(TimeSpan.FromSeconds(1)),
                CancellationToken.None
            )
        );

        var took = DateTime.UtcNow - started;
        took.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        took.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(5), "SIGKILL comes only after the grace period");
        error.Message.ShouldContain("is gone");
        Pids().Count.ShouldBe(2);
        Pids().ShouldAllBe(pid => !Alive(pid));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_local_command_cancelled_by_the_operator_is_ended_with_its_children()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        await Should.ThrowAsync<OperationCanceledException>(() =>
            new LocalShell().RunAsync(
                ["/bin/sh", "-c", $"echo $$ > {_folder}/pids; sleep 300 & echo $! >> {_folder}/pids; wait"],
                new CommandOptions(TimeSpan.FromMinutes(5)),
                stop.Token
            )
        );

        Pids().ShouldAllBe(pid => !Alive(pid));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
