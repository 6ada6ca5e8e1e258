namespace RollingUpgrade.Cli;

/// <summary>Where a command writes, and the adapters it uses (tests pass fakes).</summary>
internal sealed record CliIO(
    TextWriter Output,
    TextWriter Error,
    Ports.IAdapterFactory Adapters,
    Logging.CliLogging Logging
);
