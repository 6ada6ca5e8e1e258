using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>How mongooseimctl and ejabberdctl end: 0 done, 1 error, 2 usage, 3 node down (badrpc).</summary>
public enum CtlExit
{
    Ok = 0,
    Error = 1,
    Usage = 2,
    NodeDown = 3,
    Other = -1,
}

public sealed record CtlResult(int ExitCode, string Output, string Error)
{
    public CtlExit Exit => ExitCode is >= 0 and <= 3 ? (CtlExit)ExitCode : CtlExit.Other;

    public string Text => (Output + "\n" + Error).Trim();

    /// <summary>Throws for anything but success, naming what the exit code means.</summary>
    public CtlResult Require(string node, string what) => Exit switch
    {
        CtlExit.Ok => this,
        CtlExit.NodeDown => throw new UnexpectedAnswerException($"{what} on {node}: the node is down (exit code 3): {FirstLine()}"),
        CtlExit.Usage => throw new UnexpectedAnswerException($"{what} on {node}: the control command did not accept its arguments (exit code 2, usage); check product.cli and product.ctl: {FirstLine()}"),
        _ => throw new UnexpectedAnswerException($"{what} on {node} failed with exit code {ExitCode}: {FirstLine()}"),
    };

    public string FirstLine() => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no output)";
}

/// <summary>Runs the product's control command on a node, through the node's shell.</summary>
/// <param name="values">The placeholder values of the step being run (outside a run: the plan's).</param>
public sealed class ControlCommand(Plan plan, IShellFactory shells, ICommandValues? values = null)
{
    private readonly ICommandValues _values = values ?? CommandValues.BeforeRun(plan);

    /// <summary>The system's temporary folder, on the node as here.</summary>
    internal const string ErlangWorkingDirectory = "/tmp";

    public async Task<CtlResult> RunAsync(NodeSpec node, IReadOnlyList<string> arguments, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        var argv = plan.Product.Ctl.Render(_values.For(node)).Concat(arguments).ToList();
        return await RunArgvAsync(node, argv, cancellationToken, timeout).ConfigureAwait(false);
    }

    public async Task<CtlResult> RunTemplateAsync(NodeSpec node, CommandTemplate template, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        return await RunArgvAsync(node, template.Render(_values.For(node)), cancellationToken, timeout).ConfigureAwait(false);
    }

    private async Task<CtlResult> RunArgvAsync(NodeSpec node, IReadOnlyList<string> argv, CancellationToken cancellationToken, TimeSpan? timeout)
    {
        await using var shell = shells.For(node);
        // An Erlang control command writes erl_crash.dump where it stands: never in the caller's folder.
        var options = new CommandOptions(timeout ?? plan.Access.CommandTimeout, plan.Access.Sudo, WorkingDirectory: ErlangWorkingDirectory);
        var result = await shell.RunAsync(argv, options, cancellationToken).ConfigureAwait(false);
        return new CtlResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
