using System.Text.RegularExpressions;

namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary>Stream ids from <c>show sess</c>, so sessions can be ended one by one at a pace.</summary>
public static partial class SessionList
{
    [GeneratedRegex(@"^(0x[0-9a-f]+):.*\sbe=(\S+)\s+srv=(\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex Line();

    /// <summary>The stream ids on one server, from a whole <c>show sess</c> reply.</summary>
    public static IReadOnlyList<string> For(string showSess, string backend, string server)
    {
        ArgumentNullException.ThrowIfNull(showSess);
        return showSess
            .Split('\n')
            .Select(line => TryParse(line, out var id, out var b, out var s) && b == backend && s == server ? id : null)
            .OfType<string>()
            .ToList();
    }

    /// <summary>One line of <c>show sess</c>: its stream id, backend and server; false for any other line.</summary>
    public static bool TryParse(string line, out string id, out string backend, out string server)
    {
        var match = Line().Match(line ?? string.Empty);
        id = match.Groups[1].Value;
        backend = match.Groups[2].Value;
        server = match.Groups[3].Value;
        return match.Success;
    }
}
