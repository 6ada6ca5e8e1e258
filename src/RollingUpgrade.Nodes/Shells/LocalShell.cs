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

        List<string> vector = [.. options.Elevation(), .. argv];
        var watch = Stopwatch.StartNew();
        var output = new StringBuilder();
        var error = new StringBuilder();

        // Its own process group (setsid), so a command cut short is ended with everything it forked.
        var command = Cli.Wrap("setsid")
            .WithArguments(["--", .. vector])
            .WithValidation(CommandResultValidation.None)
            .WithWorkingDirectory(options.WorkingDirectory ?? Directory.GetCurrentDirectory())
            .WithStandardInputPipe(
                options.StandardInput is null ? PipeSource.Null : PipeSource.FromString(options.StandardInput)
            )
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output, Encoding.UTF8))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(error, Encoding.UTF8));
        CommandTask<CliWrap.CommandResult> running;
        try
        {
            running = command.ExecuteAsync(CancellationToken.None);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(127, string.Empty, $"{vector[0]}: {e.Message}", watch.Elapsed);
        }

        try
        {
            var result = await running.Task.WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
            NodesLog.CommandRan(_log, "local", ShellQuote.Display(vector), result.ExitCode, watch.ElapsedMilliseconds);
            return new CommandResult(result.ExitCode, output.ToString(), error.ToString(), watch.Elapsed);
        }
        catch (TimeoutException)
        {
            NodesLog.CommandTimedOut(_log, "local", ShellQuote.Display(vector), options.Timeout.TotalSeconds);
            var gone = await EndAsync(running).ConfigureAwait(false);
            throw new TimeoutException(
                $"'{vector[0]}' did not finish within {options.Timeout.TotalSeconds:0.#}s; "
                    + (
                        gone
                            ? "its process group was sent SIGTERM (SIGKILL after "
                                + $"{ProcessGroup.Grace.TotalSeconds:0}s) and is gone"
                            : $"its process group {running.ProcessId} did not end even after SIGKILL; check it by hand"
                    )
            );
        }
        catch (OperationCanceledException)
        {
            // Stopped by the operator: the command does not outlive the decision.
            await EndAsync(running).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the command's whole process group; true once none of it is left.</summary>
    private static async Task<bool> EndAsync(CommandTask<CliWrap.CommandResult> running)
    {
        await ProcessGroup.TerminateAsync(running.ProcessId, ProcessGroup.Grace, running.Task).ConfigureAwait(false);
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A grandchild that left the group may still hold the output open; the group itself is checked below.
        }

        return !ProcessGroup.Exists(running.ProcessId);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
