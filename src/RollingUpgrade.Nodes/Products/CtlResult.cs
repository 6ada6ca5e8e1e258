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
            _ => throw new UnexpectedAnswerException($"{what} on {node} failed with exit code {ExitCode}: {Reason()}"),
        };

    /// <summary>
    /// Why a command refused, in full: each GraphQL error as "message (code)" (the 6.x CLI prints
    /// <c>{"errors":[{"message":...,"extensions":{"code":...}}]}</c> as pretty JSON over many lines), or every line
    /// from the first "Error:" on (ejabberd and the legacy words print the reason term on the lines after it), or
    /// the first line.
    /// </summary>
    public string Reason()
    {
        if (GraphQlErrors() is { Count: > 0 } errors)
        {
            return string.Join("; ", errors);
        }

        var lines = Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var first = Array.FindIndex(lines, l => l.StartsWith("Error:", StringComparison.Ordinal));
        return first >= 0 ? ErlangTerms.Shorten(string.Join(" ", lines[first..]), 500) : FirstLine();
    }

    private List<string>? GraphQlErrors()
    {
        var output = Output.Trim();
        if (!output.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(output);
            if (
                json.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !json.RootElement.TryGetProperty("errors", out var errors)
                || errors.ValueKind != System.Text.Json.JsonValueKind.Array
            )
            {
                return null;
            }

            return errors
                .EnumerateArray()
                .Select(e =>
                {
                    var message = GraphQlCliResult.Text(e, "message") ?? ErlangTerms.Shorten(e.ToString());
                    var code =
                        e.ValueKind == System.Text.Json.JsonValueKind.Object
                        && e.TryGetProperty("extensions", out var extensions)
                            ? GraphQlCliResult.Text(extensions, "code")
                            : null;
                    return code is null ? message : $"{message} ({code})";
                })
                .ToList();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public string FirstLine() =>
        Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
        ?? "(no output)";
}
