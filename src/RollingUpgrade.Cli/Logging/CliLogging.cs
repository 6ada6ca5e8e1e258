using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Logging;

/// <summary>
/// The diagnostic log of one command: off by default; <c>--log-file PATH</c> writes debug lines
/// to PATH, <c>--verbose</c> writes them to stderr. Every line goes through <see cref="Redactor"/>,
/// which learns the secrets of each plan the command loads.
/// </summary>
internal sealed class CliLogging : IDisposable
{
    private LoggerFactory? _factory;

    public SecretRedactor Redactor { get; } = new();

    public ILoggerFactory Factory => (ILoggerFactory?)_factory ?? NullLoggerFactory.Instance;

    public bool Configured => _factory is not null;

    /// <summary>Sets the log up from the command line; a log file that cannot be opened is bad input.</summary>
    public void Configure(string? file, bool verbose, TextWriter error, LogLevel fallback = LogLevel.None)
    {
        var providers = new List<ILoggerProvider>();
        if (file is not null)
        {
            var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read);
            providers.Add(
                new RedactingLoggerProvider(new StreamWriter(stream), LogLevel.Debug, Redactor, ownsWriter: true)
            );
        }

        if (verbose)
        {
            providers.Add(new RedactingLoggerProvider(error, LogLevel.Debug, Redactor, ownsWriter: false));
        }
        else if (file is null && fallback != LogLevel.None)
        {
            providers.Add(new RedactingLoggerProvider(error, fallback, Redactor, ownsWriter: false));
        }

        if (providers.Count > 0)
        {
            _factory?.Dispose();
            _factory = new LoggerFactory(providers, new LoggerFilterOptions { MinLevel = LogLevel.Trace });
        }
    }

    public void Dispose() => _factory?.Dispose();
}
