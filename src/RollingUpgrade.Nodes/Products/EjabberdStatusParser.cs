using System.Text.RegularExpressions;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// <c>ejabberdctl status</c>: "The node 'ejabberd1@127.0.0.11' is started with status: started" and
/// "ejabberd 23.01-1 is running in that node" (exit 0); "is starting" or "ejabberd is not running
/// in that node" (exit 1) while mnesia waits or the app is down.
/// </summary>
internal static partial class EjabberdStatusParser
{
    [GeneratedRegex(@"^ejabberd (\S+) is running in that node", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex Running();

    [GeneratedRegex(
        @"^The node \S+ is (\w+) with status: (\w+)",
        RegexOptions.Multiline | RegexOptions.CultureInvariant
    )]
    private static partial Regex Node();

    [GeneratedRegex(@"ejabberd (\S+) is running in that node", RegexOptions.CultureInvariant)]
    private static partial Regex RunningAnywhere();

    [GeneratedRegex(@"The node '?([^'\s]+@[^'\s]+?)'? is ", RegexOptions.CultureInvariant)]
    private static partial Regex NodeNamed();

    /// <summary>
    /// The Erlang node a status text speaks for ("The node 'ej1@host' is started..."), or null when it names none.
    /// </summary>
    public static string? NodeName(string text) =>
        NodeNamed().Match(text ?? string.Empty) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>
    /// The HTTP API's <c>status</c>: one string, "The node 'n@h' is started. Status: started" run
    /// together with "ejabberd 23.01-1 is running in that node". The API answers only while
    /// ejabberd's listeners are up, so anything else is a node that is not (yet) running.
    /// </summary>
    public static NodeStatus ParseApi(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var running = RunningAnywhere().Match(text);
        if (running.Success)
        {
            return new NodeStatus(
                NodeRunState.Running,
                running.Groups[1].Value,
                $"started, ejabberd {running.Groups[1].Value}"
            );
        }

        if (
            text.Contains("is not running in that node", StringComparison.Ordinal)
            || text.Contains("The node", StringComparison.Ordinal)
        )
        {
            return new NodeStatus(NodeRunState.Starting, null, "the Erlang VM is up but ejabberd is not running yet");
        }

        throw new UnexpectedAnswerException(
            $"ejabberd's HTTP API answered status with something unexpected: '{ErlangTerms.Shorten(text.Trim())}'"
        );
    }

    public static NodeStatus Parse(int exitCode, string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var running = Running().Match(output);
        var node = Node().Match(output);
        if (exitCode == 0 && running.Success)
        {
            return new NodeStatus(
                NodeRunState.Running,
                running.Groups[1].Value,
                $"started, ejabberd {running.Groups[1].Value}"
            );
        }

        if (node.Success || output.Contains("is not running in that node", StringComparison.Ordinal))
        {
            var vm = node.Success ? node.Groups[1].Value : "up";
            return new NodeStatus(
                NodeRunState.Starting,
                null,
                $"the Erlang VM is {vm} but ejabberd is not running yet"
            );
        }

        throw new UnexpectedAnswerException(
            $"ejabberdctl status answered something unexpected (exit code {exitCode}): '"
                + $"{ErlangTerms.Shorten(output.Trim())}'"
        );
    }
}
