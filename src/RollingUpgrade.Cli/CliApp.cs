using System.CommandLine;
using RollingUpgrade.Cli.Commands;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Cli;

/// <summary>The <c>rollingupgrade</c> command line.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Ports.IAdapterFactory? adapters = null, Func<string, string?>? passphrasePrompt = null)
    {
        var io = new CliIO(output, error, adapters ?? new Adapters.CliAdapterFactory(passphrasePrompt));
        var root = new RootCommand("Zero-downtime upgrades of clustered servers behind load balancers (MongooseIM, ejabberd, generic).");
        foreach (var command in PlanCommands.Create(io))
        {
            root.Add(command);
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync($"rollingupgrade: {problem.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("run `rollingupgrade --help` for usage").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
    }
}
