using System.Diagnostics;
using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RollingUpgrade.Nodes.Diagnostics;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using CommandResult = RollingUpgrade.Ports.CommandResult;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>Runs argument vectors as local processes (CliWrap); no shell parses them.</summary>
internal sealed class LocalShell(ILogger? log = null) : INodeShell
{
    private readonly ILogger _log = log ?? NullLogger.Instance;

    public async Task<CommandResult> RunAsync(
        IReadOnlyList<string> argv,
        CommandOptions options,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(options);
        if (argv.Count == 0)
        {
            throw new ArgumentException("empty command", nameof(argv));
        }

        var vector = options.Sudo ? ["sudo", "-n", "--", .. argv] : argv.ToList();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var watch = Stopwatch.StartNew();
        var command = Cli.Wrap(vector[0])
            .WithArguments(vector.Skip(1))
            .WithValidation(CommandResultValidation.None)
            .WithWorkingDirectory(options.WorkingDirectory ?? Directory.GetCurrentDirectory())
            .WithStandardInputPipe(
                options.StandardInput is null ? PipeSource.Null : PipeSource.FromString(options.StandardInput)
            );
        try
        {
            var result = await command
                .ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8, CancellationToken.None, timeout.Token)
                .ConfigureAwait(false);
            NodesLog.CommandRan(_log, "local", ShellQuote.Display(vector), result.ExitCode, watch.ElapsedMilliseconds);
            return new CommandResult(result.ExitCode, result.StandardOutput, result.StandardError, watch.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            NodesLog.CommandTimedOut(_log, "local", ShellQuote.Display(vector), options.Timeout.TotalSeconds);
            throw new TimeoutException(
                $"'{vector[0]}' did not finish within {options.Timeout.TotalSeconds:0.#}s and was killed"
            );
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(127, string.Empty, $"{vector[0]}: {e.Message}", watch.Elapsed);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
