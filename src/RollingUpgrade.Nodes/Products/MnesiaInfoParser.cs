using System.Text.RegularExpressions;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// The cluster view from <c>mnesia:info()</c> ("running db nodes   = [...]", "stopped db nodes   = [...] "
/// with its trailing space) or from <c>mnesia_info</c>'s proplist (<c>{db_nodes,[...]}</c>,
/// <c>{running_db_nodes,[...]}</c>, wrapped over lines).
/// </summary>
internal static partial class MnesiaInfoParser
{
    [GeneratedRegex(
        @"^(running|stopped) db nodes\s*=\s*(\[.*\])\s*$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant
    )]
    private static partial Regex InfoLine();

    [GeneratedRegex(@"\{(running_db_nodes|db_nodes),(\[[^\]]*\])\}", RegexOptions.CultureInvariant)]
    private static partial Regex ProplistEntry();

    public static Membership ParseInfo(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var lists = InfoLine()
            .Matches(output.Replace("\r", string.Empty, StringComparison.Ordinal))
            .ToDictionary(m => m.Groups[1].Value, m => ErlangTerms.AtomList(m.Groups[2].Value));
        if (!lists.TryGetValue("running", out var running))
        {
            throw new UnexpectedAnswerException(
                $"no 'running db nodes' line in the mnesia info output: '{ErlangTerms.Shorten(output.Trim())}'"
            );
        }

        return new Membership(running, lists.GetValueOrDefault("stopped") ?? []);
    }

    public static Membership ParseSystemInfo(string proplist)
    {
        ArgumentNullException.ThrowIfNull(proplist);
        var compact = Regex.Replace(proplist, @"\s+", string.Empty);
        var entries = ProplistEntry()
            .Matches(compact)
            .ToDictionary(m => m.Groups[1].Value, m => ErlangTerms.AtomList(m.Groups[2].Value));
        if (!entries.TryGetValue("running_db_nodes", out var running) || !entries.TryGetValue("db_nodes", out var all))
        {
            throw new UnexpectedAnswerException(
                $"no db_nodes/running_db_nodes in the mnesia system info: '{ErlangTerms.Shorten(compact)}'"
            );
        }

        return new Membership(running, all.Except(running, StringComparer.Ordinal).ToList());
    }
}
