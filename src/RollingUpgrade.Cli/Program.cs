using RollingUpgrade.Execution;
using System.CommandLine;
using RollingUpgrade.Cli;
using RollingUpgrade.Cli.Commands;

if (!Console.IsInputRedirected)
{
    RollingUpgrade.Nodes.Shells.SshConnection.PassphrasePrompt = Terminal.ReadSecret;
}

return await CliApp.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);

namespace RollingUpgrade.Cli
{
    /// <summary>The <c>rollingupgrade</c> command line.</summary>
    public static class CliApp
    {
        public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Ports.IAdapterFactory? adapters = null)
        {
            var io = new CliIO(output, error, adapters);
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

    /// <summary>Where a command writes, and the adapters it uses (tests pass fakes).</summary>
    public sealed record CliIO(TextWriter Output, TextWriter Error, Ports.IAdapterFactory? Adapters);
}
