using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Validation;
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
        if (ArgumentsAreReparsed && argv.FirstOrDefault(a => !ValueRules.IsShellWord(a)) is { } unsafeArgument)
        {
            throw new UnexpectedAnswerException(
                $"not sent to {node.Name}: the argument '{ErlangTerms.Shorten(unsafeArgument)}' would not arrive as "
                    + "sent, since mongooseimctl run as another user than its runner user re-executes itself through "
                    + "`runuser -c \"$0 $*\"`, which re-parses every argument through a shell; set product.run_as to "
                    + "the runner user (\"mongooseim\" for the .deb) so the control command runs as that user directly"
            );
        }

        return await RunArgvAsync(node, argv, cancellationToken, timeout, plan.Product.RunAs).ConfigureAwait(false);
    }

    /// <summary>
    /// MongooseIM's control command not run as its runner user may re-execute itself through a shell that
    /// re-parses every argument (rel/files/mongooseimctl, 3.x to 6.8): then only shell words are sent.
    /// </summary>
    public bool ArgumentsAreReparsed => plan.Product.Kind == ProductKind.MongooseIm && plan.Product.RunAs is null;

    public async Task<CtlResult> RunTemplateAsync(
        NodeSpec node,
        CommandTemplate template,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null
    )
    {
        ArgumentNullException.ThrowIfNull(template);
        return await RunArgvAsync(node, template.Render(_values.For(node)), cancellationToken, timeout, runAs: null)
            .ConfigureAwait(false);
    }

    private async Task<CtlResult> RunArgvAsync(
        NodeSpec node,
        IReadOnlyList<string> argv,
        CancellationToken cancellationToken,
        TimeSpan? timeout,
        string? runAs
    )
    {
        await using var shell = shells.For(node);
        // An Erlang control command writes erl_crash.dump where it stands: never in the caller's folder.
        var options = new CommandOptions(
            timeout ?? plan.Access.CommandTimeout,
            plan.Access.Sudo,
            WorkingDirectory: ErlangWorkingDirectory,
            RunAs: runAs
        );
        var result = await shell.RunAsync(argv, options, cancellationToken).ConfigureAwait(false);
        return new CtlResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
