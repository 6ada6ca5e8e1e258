using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>Runs the product's control command on a node, through the node's shell.</summary>
/// <param name="values">The placeholder values of the step being run (outside a run: the plan's).</param>
public sealed class ControlCommand(Plan plan, IShellFactory shells, ICommandValues? values = null)
{
    private readonly ICommandValues _values = values ?? CommandValues.BeforeRun(plan);

    /// <summary>The system's temporary folder, on the node as here.</summary>
    internal const string ErlangWorkingDirectory = "/tmp";

    public async Task<CtlResult> RunAsync(
        NodeSpec node,
        IReadOnlyList<string> arguments,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        var argv = plan.Product.Ctl.Render(_values.For(node)).Concat(arguments).ToList();
        return await RunArgvAsync(node, argv, cancellationToken, timeout).ConfigureAwait(false);
    }

    public async Task<CtlResult> RunTemplateAsync(
        NodeSpec node,
        CommandTemplate template,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null
    )
    {
        ArgumentNullException.ThrowIfNull(template);
        return await RunArgvAsync(node, template.Render(_values.For(node)), cancellationToken, timeout)
            .ConfigureAwait(false);
    }

    private async Task<CtlResult> RunArgvAsync(
        NodeSpec node,
        IReadOnlyList<string> argv,
        CancellationToken cancellationToken,
        TimeSpan? timeout
    )
    {
        await using var shell = shells.For(node);
        // An Erlang control command writes erl_crash.dump where it stands: never in the caller's folder.
        var options = new CommandOptions(
            timeout ?? plan.Access.CommandTimeout,
            plan.Access.Sudo,
            WorkingDirectory: ErlangWorkingDirectory
        );
        var result = await shell.RunAsync(argv, options, cancellationToken).ConfigureAwait(false);
        return new CtlResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
