using System.Diagnostics;
using System.Text.Json;

namespace RollingUpgrade.Journaling;

/// <summary>
/// One run per cluster. The lock file names the process holding it; a lock left by a process
/// that no longer runs is reported as stale and only taken over when the user says so.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly string _path;
    private bool _released;

    private RunLock(string path) => _path = path;

    public sealed record Holder(int Pid, string Host, string RunId, DateTimeOffset Since);

    public static LockAttempt TryAcquire(string path, string runId, bool takeOverStale, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var me = new Holder(Environment.ProcessId, Environment.MachineName, runId, time.GetUtcNow());
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    JsonSerializer.Serialize(stream, me);
                    stream.Flush(flushToDisk: true);
                }

                return new LockAttempt(new RunLock(path), null, false);
            }
            catch (IOException) when (File.Exists(path))
            {
                var holder = ReadHolder(path);
                var stale = holder is null || IsStale(holder);
                if (!stale || !takeOverStale || attempt > 0)
                {
                    return new LockAttempt(null, holder, stale);
                }

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
        catch (Exception e) when (e is IOException or JsonException)
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

        try
        {
            using var process = Process.GetProcessById(holder.Pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
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
