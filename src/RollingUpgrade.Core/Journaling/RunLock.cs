using System.Globalization;
using System.Text.Json;

namespace RollingUpgrade.Journaling;

/// <summary>
/// One run per cluster. The lock file names the exact process holding it: host, boot, pid and
/// the process's start time, so a pid reused by another process (a container restarted with the
/// CLI as pid 1 again) is never taken for the holder. A lock whose holder is provably gone (same
/// host, and that process no longer exists in this boot) is taken over at once for the same user,
/// with a message; anything less certain waits for <c>--take-over-stale-lock</c>.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly string _path;
    private bool _released;

    private RunLock(string path) => _path = path;

    /// <param name="StartTime">The process's start time in clock ticks since boot (/proc/PID/stat field 22).</param>
    /// <param name="BootId">The kernel's boot id: a pid means nothing across boots.</param>
    public sealed record Holder(
        int Pid,
        string Host,
        string RunId,
        DateTimeOffset Since,
        string? User = null,
        long? StartTime = null,
        string? BootId = null
    );

    public static LockAttempt TryAcquire(string path, string runId, bool takeOverStale, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var me = new Holder(
            Environment.ProcessId,
            Environment.MachineName,
            runId,
            time.GetUtcNow(),
            Environment.UserName,
            StartTimeOf(Environment.ProcessId),
            BootId()
        );
        Holder? previous = null;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    JsonSerializer.Serialize(stream, me);
                    stream.Flush(flushToDisk: true);
                }

                return new LockAttempt(new RunLock(path), previous, previous is not null);
            }
            catch (IOException) when (File.Exists(path))
            {
                var holder = ReadHolder(path);
                var stale = holder is null || IsStale(holder);
                var provablyGone = holder is not null && IsProvablyGone(holder) && holder.User == Environment.UserName;
                if (!stale || (!takeOverStale && !provablyGone) || attempt > 0)
                {
                    return new LockAttempt(null, holder, stale);
                }

                previous = holder;
                File.Delete(path);
            }
        }

        return new LockAttempt(null, ReadHolder(path), false);
    }

    public static Holder? ReadHolder(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A lock is stale when it was taken on this machine by a process that is gone.</summary>
    public static bool IsStale(Holder holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (!string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal))
        {
            return false;
        }

        if (holder.BootId is { } boot && BootId() is { } now && boot != now)
        {
            return true;
        }

        var start = StartTimeOf(holder.Pid);
        return start is null || (holder.StartTime is { } recorded && recorded != start);
    }

    /// <summary>
    /// Certain, not guessed: the lock names this host, its boot and start time, and that process
    /// does not exist (a pid alone could have been reused).
    /// </summary>
    public static bool IsProvablyGone(Holder holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        return holder.StartTime is not null
            && holder.BootId is not null
            && string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal)
            && IsStale(holder);
    }

    /// <summary>The start time of a live process (clock ticks since boot), or null when there is none.</summary>
    public static long? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");

            // The command name (field 2) may hold spaces and parentheses; fields are counted after its end.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e)
            when (e
                    is IOException
                        or UnauthorizedAccessException
                        or FormatException
                        or IndexOutOfRangeException
                        or ArgumentOutOfRangeException
            )
        {
            return null;
        }
    }

    public static string? BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!_released)
        {
            _released = true;
            File.Delete(_path);
        }
    }
}
