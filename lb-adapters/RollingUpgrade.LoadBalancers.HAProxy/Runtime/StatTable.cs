namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary>
/// The CSV of <c>show stat</c>, read by column name (HAProxy versions add columns; positions are
/// not a contract).
/// </summary>
public sealed class StatTable
{
    private StatTable(IReadOnlyList<StatRow> rows) => Rows = rows;

    public IReadOnlyList<StatRow> Rows { get; }

    public StatRow? Server(string backend, string server) =>
        Rows.FirstOrDefault(r => r.Proxy == backend && r.Name == server);

    public bool HasBackend(string backend) => Rows.Any(r => r.Proxy == backend && r.Name == "BACKEND");

    public static StatTable Parse(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header =
            lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))
            ?? throw new Ports.UnexpectedAnswerException(
                $"'show stat' answered without its '# pxname,svname,...' header: {Shorten(csv)}"
            );
        var names = header[2..].Split(',');
        var rows = new List<StatRow>();
        foreach (var line in lines.Where(l => !l.StartsWith('#')))
        {
            var fields = SplitCsv(line);
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < names.Length && i < fields.Count; i++)
            {
                if (names[i].Length > 0)
                {
                    row[names[i]] = fields[i];
                }
            }

            if (row.ContainsKey("pxname") && row.ContainsKey("svname"))
            {
                rows.Add(new StatRow(row));
            }
        }

        return new StatTable(rows);
    }

    /// <summary>Splits one CSV line; HAProxy quotes only ambiguous text.</summary>
    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text.Trim() : text[..77] + "...";
}
