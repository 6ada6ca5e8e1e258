namespace RollingUpgrade.Cli;

/// <summary>
/// Where a command writes, and the adapters it uses (tests pass fakes). <see cref="Terminal"/>: the output is a
/// terminal that can redraw in place (not redirected, TERM not dumb), so a run shows its live view.
/// </summary>
internal sealed record CliIO(
    TextWriter Output,
    TextWriter Error,
    Ports.IAdapterFactory Adapters,
    Logging.CliLogging Logging,
    bool Terminal = false
);
