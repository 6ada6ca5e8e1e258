using System.Runtime.InteropServices;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// A command's process group on this machine. Commands start through <c>setsid</c>, so the
/// command and everything it forks share a group whose id is the command's pid; a command cut
/// short is sent SIGTERM as a group, SIGKILL after a grace period, and only called gone once no
/// process of the group is left.
/// </summary>
internal static partial class ProcessGroup
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary>How long a group has between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>True while some process of the group exists.</summary>
    public static bool Exists(int group) => Kill(-group, 0) == 0 || Marshal.GetLastPInvokeError() == 1;

    /// <summary>
    /// SIGTERM to the group, SIGKILL after <paramref name="grace"/>; returns once the group is
    /// gone (or after a last wait).
    /// </summary>
    public static async Task TerminateAsync(int group, TimeSpan grace, Task exited)
    {
        if (group <= 1)
        {
            return;
        }

        Kill(-group, SigTerm);
        if (await GoneWithinAsync(group, grace, exited).ConfigureAwait(false))
        {
            return;
        }

        Kill(-group, SigKill);
        await GoneWithinAsync(group, TimeSpan.FromSeconds(5), exited).ConfigureAwait(false);
    }

    private static async Task<bool> GoneWithinAsync(int group, TimeSpan limit, Task exited)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (!Exists(group) && exited.IsCompleted)
            {
                return true;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        return !Exists(group);
    }
}
