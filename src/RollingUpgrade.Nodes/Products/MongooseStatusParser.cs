using System.Text.RegularExpressions;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// <c>mongooseimctl status</c>, the same built-in from 3.x to 6.x: "MongooseIM node N:", then
/// indented lines such as "Erlang VM status: started" and "version: 6.3.1 (as mongooseim)"; exit 0
/// only when the mongooseim application runs ("version: unavailable - ..." and exit 1 otherwise).
/// </summary>
internal static partial class MongooseStatusParser
{
    [GeneratedRegex(@"^\s*version:\s*(\S+)(.*)$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex Version();

    [GeneratedRegex(@"^\s*Erlang VM status:\s*(\w+)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex Vm();

    public static NodeStatus Parse(int exitCode, string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var version = Version().Match(output);
        var vm = Vm().Match(output);
        if (!output.Contains("MongooseIM node", StringComparison.Ordinal) || !version.Success)
        {
            throw new UnexpectedAnswerException(
                $"mongooseimctl status answered something unexpected (exit code {exitCode}): '"
                    + $"{ErlangTerms.Shorten(output.Trim())}'"
            );
        }

        var reported = version.Groups[1].Value;
        if (exitCode == 0 && reported != "unavailable")
        {
            return new NodeStatus(NodeRunState.Running, reported, $"started, MongooseIM {reported}");
        }

        var state = vm.Success ? vm.Groups[1].Value : "unknown";
        return new NodeStatus(
            state == "stopping" ? NodeRunState.Stopping : NodeRunState.Starting,
            null,
            $"Erlang VM {state}, MongooseIM not running"
        );
    }
}
