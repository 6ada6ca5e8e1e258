using System.Text;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Model;

/// <summary>POSIX shell quoting: the one way a value from a plan is allowed into a shell string.</summary>
public static class ShellQuote
{
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "@%_+=:,./-".Contains(c)))
        {
            return value;
        }

        var builder = new StringBuilder("'");
        builder.Append(value.Replace("'", "'\\''", StringComparison.Ordinal));
        builder.Append('\'');
        return builder.ToString();
    }

    public static string Join(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    /// <summary>
    /// A command as an operator reads it in a message: a script (<c>/bin/sh -c SCRIPT</c>) as its
    /// text with the values substituted, an argument vector quoted as a shell would take it.
    /// </summary>
    public static string Display(IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        return argv.Count >= 3 && argv[0] == "/bin/sh" && argv[1] == "-c"
            ? ScriptParameters.Display(argv[2], argv.Skip(4).ToList())
            : Join(argv);
    }
}
