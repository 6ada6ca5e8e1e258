using System.Text;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Model;

/// <summary>
/// Puts the values of a script's placeholders where the shell never parses them: each placeholder
/// becomes a reference to a positional parameter (<c>sh -c SCRIPT rollingupgrade V1 V2 ...</c>),
/// written for the quoting it stands in: <c>"${1}"</c> bare, <c>${1#}</c> inside double quotes,
/// <c>'"${1}"'</c> inside single quotes (the quote is closed around it). A value such as
/// <c>$(touch x)</c>, <c>a;b</c> or <c>a b</c> arrives as one argument, never as code.
/// </summary>
public static partial class ScriptParameters
{
    /// <summary>The name <c>$0</c> takes in the script (error messages of the shell show it).</summary>
    public const string ScriptName = "rollingupgrade";

    private enum Quoting
    {
        None,
        Single,
        Double,
    }

    /// <summary>The script with parameter references, and the values in parameter order ($1, $2, ...).</summary>
    public static (string Script, IReadOnlyList<string> Values) Bind(string script, Func<string, string> valueOf)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(valueOf);
        var output = new StringBuilder(script.Length + 16);
        var values = new List<string>();
        var contexts = new Stack<(Quoting Outer, int Parens)>();
        var quoting = Quoting.None;
        var parens = 0;
        for (var i = 0; i < script.Length; i++)
        {
            var c = script[i];
            if (c == '{')
            {
                var match = CommandTemplate.Placeholder().Match(script, i);
                if (match.Success && match.Index == i)
                {
                    values.Add(valueOf(match.Groups[1].Value));
                    var number = values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var reference = "${" + number + "}";
                    output.Append(
                        quoting switch
                        {
                            // "${N#}" is the same value; the '#' tells messages the quotes are the plan's own.
                            Quoting.Double => "${" + number + "#}",
                            Quoting.Single => "'\"" + reference + "\"'",
                            _ => "\"" + reference + "\"",
                        }
                    );
                    i += match.Length - 1;
                    continue;
                }
            }

            output.Append(c);
            switch (quoting)
            {
                case Quoting.Single:
                    if (c == '\'')
                    {
                        quoting = Quoting.None;
                    }

                    break;
                case Quoting.Double:
                    if (c == '\\' && i + 1 < script.Length)
                    {
                        output.Append(script[++i]);
                    }
                    else if (c == '"')
                    {
                        quoting = Quoting.None;
                    }
                    else if (c == '$' && i + 1 < script.Length && script[i + 1] == '(')
                    {
                        output.Append(script[++i]);
                        contexts.Push((Quoting.Double, parens));
                        quoting = Quoting.None;
                        parens = 0;
                    }

                    break;
                default:
                    if (c == '\\' && i + 1 < script.Length)
                    {
                        output.Append(script[++i]);
                    }
                    else if (c == '\'')
                    {
                        quoting = Quoting.Single;
                    }
                    else if (c == '"')
                    {
                        quoting = Quoting.Double;
                    }
                    else if (c == '$' && i + 1 < script.Length && script[i + 1] == '(')
                    {
                        output.Append(script[++i]);
                        contexts.Push((Quoting.None, parens));
                        parens = 0;
                    }
                    else if (c == '(')
                    {
                        parens++;
                    }
                    else if (c == ')' && parens > 0)
                    {
                        parens--;
                    }
                    else if (c == ')' && contexts.Count > 0)
                    {
                        (quoting, parens) = contexts.Pop();
                    }

                    break;
            }
        }

        return (output.ToString(), values);
    }

    [GeneratedRegex(@"'""\$\{(\d+)\}""'|""\$\{(\d+)\}""|\$\{(\d+)#\}", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();

    /// <summary>
    /// The script as an operator reads it in a message: each parameter reference shown as the
    /// value it stands for. For display only; what runs is the bound script and its values.
    /// </summary>
    public static string Display(string script, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(values);
        return Reference()
            .Replace(
                script,
                m =>
                {
                    var number = int.Parse(
                        m.Groups[1].Success ? m.Groups[1].Value
                            : m.Groups[2].Success ? m.Groups[2].Value
                            : m.Groups[3].Value,
                        System.Globalization.CultureInfo.InvariantCulture
                    );
                    return number >= 1 && number <= values.Count ? values[number - 1] : m.Value;
                }
            );
    }
}
