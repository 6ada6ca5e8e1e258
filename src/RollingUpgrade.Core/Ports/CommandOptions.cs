namespace RollingUpgrade.Ports;

/// <param name="WorkingDirectory">Where the command runs; null for the shell's own default.</param>
/// <param name="RunAs">Run as this user (<c>sudo -n -u USER --</c>), such as the product's runner user.</param>
public sealed record CommandOptions(
    TimeSpan Timeout,
    bool Sudo = false,
    string? StandardInput = null,
    string? WorkingDirectory = null,
    string? RunAs = null
)
{
    /// <summary>What goes before the command: <c>sudo -n -u USER --</c>, <c>sudo -n --</c> or nothing.</summary>
    public IReadOnlyList<string> Elevation() =>
        RunAs is { } user ? ["sudo", "-n", "-u", user, "--"]
        : Sudo ? ["sudo", "-n", "--"]
        : [];
}
