using System.Diagnostics;
using System.Text.Json;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Tests.Journaling;

/// <summary>The lock names the exact process that holds it; a dead holder is told from a reused pid.</summary>
public sealed class RunLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-lock-").FullName;

    private string LockPath => Path.Combine(_folder, "lock");

    private static string BootId() => File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    private void Hold(RunLock.Holder holder) => File.WriteAllText(LockPath, JsonSerializer.Serialize(holder));

    private static RunLock.Holder Of(int pid, long? start, string? boot = null) =>
        new(
            pid,
            Environment.MachineName,
            "other-run",
            DateTimeOffset.UtcNow,
            Environment.UserName,
            start,
            boot ?? BootId()
        );

    [Fact(Timeout = 10_000)]
    public async Task A_holder_killed_with_sigkill_is_taken_over_without_a_flag_and_named()
    {
        using var victim = Process.Start("sleep", "60");
        var start = RunLock.StartTimeOf(victim.Id);
        start.ShouldNotBeNull();
        victim.Kill();
        await victim.WaitForExitAsync();
        Hold(Of(victim.Id, start));

        var attempt = RunLock.TryAcquire(LockPath, "mine", takeOverStale: false, TimeProvider.System);

        attempt.Lock.ShouldNotBeNull();
        attempt.Holder!.Pid.ShouldBe(victim.Id);
        attempt.HolderIsStale.ShouldBeTrue();
        RunLock.ReadHolder(LockPath)!.RunId.ShouldBe("mine");
        attempt.Lock.Dispose();
    }

    [Fact]
    public void A_pid_now_used_by_another_process_is_not_the_holder()
    {
        // This very process has the pid, but not the start time the lock recorded: pid reuse.
        Hold(Of(Environment.ProcessId, start: 1));

        RunLock.IsStale(RunLock.ReadHolder(LockPath)!).ShouldBeTrue();
        var attempt = RunLock.TryAcquire(LockPath, "mine", takeOverStale: false, TimeProvider.System);
        attempt.Lock.ShouldNotBeNull();
        attempt.Lock.Dispose();
    }

    [Fact]
    public void A_live_holder_is_never_taken_over()
    {
        Hold(Of(Environment.ProcessId, RunLock.StartTimeOf(Environment.ProcessId)));

        var attempt = RunLock.TryAcquire(LockPath, "mine", takeOverStale: true, TimeProvider.System);

        attempt.Lock.ShouldBeNull();
        attempt.HolderIsStale.ShouldBeFalse();
    }

    [Fact]
    public void A_lock_from_an_earlier_boot_is_stale()
    {
        Hold(Of(Environment.ProcessId, RunLock.StartTimeOf(Environment.ProcessId), boot: Guid.NewGuid().ToString()));

        RunLock.IsProvablyGone(RunLock.ReadHolder(LockPath)!).ShouldBeTrue();
    }

    [Fact]
    public void A_lock_from_another_host_is_never_called_stale()
    {
        Hold(Of(999_999, 5) with { Host = "bastion-2" });

        var attempt = RunLock.TryAcquire(LockPath, "mine", takeOverStale: true, TimeProvider.System);

        attempt.Lock.ShouldBeNull();
        attempt.HolderIsStale.ShouldBeFalse();
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
