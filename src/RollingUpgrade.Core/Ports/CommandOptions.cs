namespace RollingUpgrade.Ports;

/// <param name="WorkingDirectory">Where the command runs; null for the shell's own default.</param>
public sealed record CommandOptions(
    TimeSpan Timeout,
    bool Sudo = false,
    string? StandardInput = null,
    string? WorkingDirectory = null
);
