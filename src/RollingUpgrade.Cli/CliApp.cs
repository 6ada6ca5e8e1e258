using System.CommandLine;
using RollingUpgrade.Cli.Commands;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Cli;

/// <summary>The <c>rollingupgrade</c> command line.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        Ports.IAdapterFactory? adapters = null,
        Func<string, string?>? passphrasePrompt = null
    )
    {
        using var logging = new Logging.CliLogging();
        var io = new CliIO(
            output,
            error,
            adapters ?? new Adapters.CliAdapterFactory(passphrasePrompt, logging),
            logging,
            ReferenceEquals(output, Console.Out)
                && !Console.IsOutputRedirected
                && Environment.GetEnvironmentVariable("TERM") is { Length: > 0 } term
                && term != "dumb"
        );
        var root = new RootCommand(
            "Zero-downtime upgrades of clustered servers behind load balancers (MongooseIM, ejabberd, generic)."
        );
        foreach (var command in PlanCommands.Create(io))
        {
            root.Add(command);
        }

        var logFile = new Option<string?>("--log-file")
        {
            Description =
                "write a diagnostic log (retries, timeouts, every command and step) to this file; secrets are redacted",
            Recursive = true,
        };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "write the diagnostic log to stderr",
            Recursive = true,
        };
        root.Add(logFile);
        root.Add(verbose);

        // With no command, say what the commands are (and exit 2) rather than "Required command was not provided",
        // which System.CommandLine would add beside the real error when the command is mistyped.
        root.SetAction(
            async (ParseResult _, CancellationToken _) =>
            {
                await error
                    .WriteLineAsync("rollingupgrade: name a command; `rollingupgrade --help` lists them")
                    .ConfigureAwait(false);
                return ExitCodes.BadInput;
            }
        );
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine's own report: every error, and "did you mean" for a mistyped command or option.
            if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction report)
            {
                report.ShowHelp = false;
                report.ShowTypoCorrections = true;
            }

            await parsed
                .InvokeAsync(new InvocationConfiguration { Output = error, Error = error })
                .ConfigureAwait(false);
            await error.WriteLineAsync("run `rollingupgrade --help` for usage").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        try
        {
            logging.Configure(parsed.GetValue(logFile), parsed.GetValue(verbose), error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"rollingupgrade: cannot write the log file: {e.Message}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                // Signals belong to SafeStop alone. System.CommandLine's own SIGINT/SIGTERM handler would end
                // the invocation 2 s after a signal with 130/143 while the run is still stopping at its safe
                // point (and which handler the runtime calls first is not fixed): seen as a safe stop that
                // exited 143.
                ProcessTerminationTimeout = null,
            };
            return await parsed.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (Journaling.JournalUnavailableException e)
        {
            // The shared state store went away before a run held anything: nothing was touched.
            await error
                .WriteLineAsync(
                    $"rollingupgrade: {e.Message}; nothing was touched. Try again once the database is reachable"
                )
                .ConfigureAwait(false);
            return ExitCodes.HaltedOrRolledBack;
        }
        catch (Journaling.BadStateException e)
        {
            // A damaged journal or state folder is bad input: say where and how to recover, never a stack trace.
            await error.WriteLineAsync($"rollingupgrade: {e.Message}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
    }
}
