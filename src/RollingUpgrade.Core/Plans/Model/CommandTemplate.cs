using System.Text;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Model;

/// <summary>
/// A command from the plan with <c>{placeholder}</c>s. Written as an array it is an argument
/// vector and each placeholder is substituted inside one argument. Written as a string it is a
/// <c>sh -c</c> script whose values are passed as positional parameters
/// (<see cref="ScriptParameters"/>), so the shell never parses a value, whatever quotes surround it.
/// </summary>
public sealed partial record CommandTemplate(IReadOnlyList<string> Parts, bool IsScript)
{
    public static readonly IReadOnlyList<string> KnownPlaceholders =
    [
        "node",
        "host",
        "erlang_node",
        "version",
        "from_version",
        "config_path",
        "backup_path",
        "cluster",
        "seed_erlang_node",
    ];

    [GeneratedRegex(@"\{([a-z_][a-z0-9_.]*)\}", RegexOptions.CultureInvariant)]
    internal static partial Regex Placeholder();

    public IEnumerable<string> Placeholders =>
        Parts.SelectMany(p => Placeholder().Matches(p).Select(m => m.Groups[1].Value));

    /// <summary>The argument vector to run, with every placeholder replaced.</summary>
    public IReadOnlyList<string> Render(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!IsScript)
        {
            return Parts.Select(p => RenderText(p, values)).ToList();
        }

        var (script, parameters) = ScriptParameters.Bind(Parts[0], name => ValueOf(values, name));
        return ["/bin/sh", "-c", script, ScriptParameters.ScriptName, .. parameters];
    }

    /// <summary>One text (a URL, a path) with every placeholder replaced, nothing quoted.</summary>
    public static string RenderText(string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m => ValueOf(values, m.Groups[1].Value));

    private static string ValueOf(IReadOnlyDictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException($"no value for placeholder {{{name}}}");
}
