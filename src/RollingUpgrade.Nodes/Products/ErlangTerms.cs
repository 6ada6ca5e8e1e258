using System.Text;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// Reads Erlang atom lists as <c>~w</c> and <c>~p</c> print them: <c>[a@b,'c-d@e.f']</c>, possibly
/// wrapped over lines, with or without spaces. Atoms are quoted when they hold '-' or '.'.
/// </summary>
internal static class ErlangTerms
{
    public static IReadOnlyList<string> AtomList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (!trimmed.StartsWith('[') || !trimmed.EndsWith(']'))
        {
            throw new Ports.UnexpectedAnswerException(
                $"expected an Erlang list such as [a@b,'c@d'], got '{Shorten(trimmed)}'"
            );
        }

        var atoms = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 1; i < trimmed.Length - 1; i++)
        {
            var c = trimmed[i];
            if (quoted)
            {
                if (c == '\\' && i + 1 < trimmed.Length - 1)
                {
                    current.Append(trimmed[++i]);
                }
                else if (c == '\'')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '\'')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                Add();
            }
            else if (!char.IsWhiteSpace(c))
            {
                current.Append(c);
            }
        }

        Add();
        return atoms;

        void Add()
        {
            if (current.Length > 0)
            {
                atoms.Add(current.ToString());
                current.Clear();
            }
        }
    }

    internal static string Shorten(string text, int max = 80) => text.Length <= max ? text : text[..(max - 3)] + "...";
}
