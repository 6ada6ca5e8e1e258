using System.Text.RegularExpressions;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// The cluster view from <c>mnesia:info()</c> ("running db nodes   = [...]", "stopped db nodes   = [...] "
/// with its trailing space; the node's own copies in "ram_copies         = [...]", "disc_copies" and
/// "disc_only_copies", printed with <c>~p</c> and so wrapped over indented lines when long: OTP
/// <c>lib/mnesia/src/mnesia.erl</c>, <c>mini_info/0</c>) or from <c>mnesia_info</c>'s proplist
/// (<c>{db_nodes,[...]}</c>, <c>{running_db_nodes,[...]}</c>, <c>{local_tables,[...]}</c>, wrapped over lines).
/// </summary>
internal static partial class MnesiaInfoParser
{
    [GeneratedRegex(
        @"^(running|stopped) db nodes\s*=\s*(\[.*\])\s*$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant
    )]
    private static partial Regex InfoLine();

    [GeneratedRegex(
        @"^(ram_copies|disc_copies|disc_only_copies)\s*=\s*\[",
        RegexOptions.Multiline | RegexOptions.CultureInvariant
    )]
    private static partial Regex CopiesLine();

    [GeneratedRegex(@"\{(running_db_nodes|db_nodes|local_tables),(\[[^\]]*\])\}", RegexOptions.CultureInvariant)]
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

        return new Membership(running, lists.GetValueOrDefault("stopped") ?? []) { LocalTables = LocalCopies(output) };
    }

    /// <summary>The three storage lines of the node's own copies, or null when the output has none of them.</summary>
    private static List<string>? LocalCopies(string output)
    {
        var text = output.Replace("\r", string.Empty, StringComparison.Ordinal);
        List<string>? tables = null;
        foreach (Match match in CopiesLine().Matches(text))
        {
            var start = match.Index + match.Length - 1;
            var end = ClosingBracket(text, start);
            if (end < 0)
            {
                throw new UnexpectedAnswerException(
                    $"the mnesia info line '{match.Groups[1].Value} = [' has no closing ']': "
                        + $"'{ErlangTerms.Shorten(text[match.Index..].Trim())}'"
                );
            }

            tables ??= [];
            tables.AddRange(ErlangTerms.AtomList(text[start..(end + 1)]));
        }

        return tables?.Where(t => t != "schema").Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The index of the ']' closing the list that opens at <paramref name="open"/>; quoted atoms may hold ']'.
    /// </summary>
    private static int ClosingBracket(string text, int open)
    {
        var quoted = false;
        for (var i = open + 1; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\' when quoted:
                    i++;
                    break;
                case '\'':
                    quoted = !quoted;
                    break;
                case ']' when !quoted:
                    return i;
            }
        }

        return -1;
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

        return new Membership(running, all.Except(running, StringComparer.Ordinal).ToList())
        {
            LocalTables = entries.GetValueOrDefault("local_tables")?.Where(t => t != "schema").ToList(),
        };
    }
}
