using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

public sealed record CtlResult(int ExitCode, string Output, string Error)
{
    public CtlExit Exit => ExitCode is >= 0 and <= 3 ? (CtlExit)ExitCode : CtlExit.Other;

    public string Text => (Output + "\n" + Error).Trim();

    /// <summary>Throws for anything but success, naming what the exit code means.</summary>
    public CtlResult Require(string node, string what) =>
        Exit switch
        {
            CtlExit.Ok => this,
            CtlExit.NodeDown => throw new UnexpectedAnswerException(
                $"{what} on {node}: the node is down (exit code 3): {FirstLine()}"
            ),
            CtlExit.Usage => throw new UnexpectedAnswerException(
                $"{what} on {node}: the control command did not accept its arguments (exit code 2, usage); check "
                    + $"product.cli and product.ctl: {FirstLine()}"
            ),
            _ => throw new UnexpectedAnswerException(
                $"{what} on {node} failed with exit code {ExitCode}: {FirstLine()}"
            ),
        };

    public string FirstLine() =>
        Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
        ?? "(no output)";
}
