using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Schema;

/// <summary>
/// What the binder asks of each table while it binds a plan: every key, with the type it reads it as, the values a
/// choice allows, integer bounds, whether it is required, and under which <c>kind</c> of its table. The plan schema is
/// generated from this record, so it says exactly what the binder accepts.
/// </summary>
public sealed partial class SchemaRecorder
{
    internal sealed class KeyShape
    {
        public string Type { get; set; } = KeyTypes.Any;

        public IReadOnlyList<string>? Choices { get; set; }

        public long? Min { get; set; }

        public long? Max { get; set; }

        public int Asked { get; set; }

        public int AskedRequired { get; set; }

        public HashSet<string> Kinds { get; } = new(StringComparer.Ordinal);
    }

    internal sealed class TableShape
    {
        public Dictionary<string, KeyShape> Keys { get; } = new(StringComparer.Ordinal);

        public List<string> Order { get; } = [];

        public int Seen { get; set; }

        public HashSet<string> Kinds { get; } = new(StringComparer.Ordinal);

        /// <summary>A map whose keys are names (node, balancer, backend): any key is allowed.</summary>
        public bool Free { get; set; }
    }

    internal Dictionary<string, TableShape> Tables { get; } = new(StringComparer.Ordinal);

    /// <summary>How many (table, key) pairs are known: the generator stops when binding finds no new one.</summary>
    internal int Count => Tables.Values.Sum(t => t.Keys.Count);

    /// <summary>"nodes[2].vars" becomes "nodes[].vars": every element of an array of tables has one shape.</summary>
    internal static string Normalize(string path) => Index().Replace(path, "[]");

    internal void TableSeen(string path, string? kind)
    {
        var table = Table(path);
        table.Seen++;
        if (kind is not null)
        {
            table.Kinds.Add(kind);
        }
    }

    internal void FreeKeys(string path) => Table(path).Free = true;

    internal void Record(
        string path,
        string? kind,
        string key,
        string type,
        bool required,
        IReadOnlyList<string>? choices = null,
        long? min = null,
        long? max = null
    )
    {
        var table = Table(path);
        if (!table.Keys.TryGetValue(key, out var shape))
        {
            shape = new KeyShape();
            table.Keys[key] = shape;
            table.Order.Add(key);
        }

        if (type != KeyTypes.Any && Rank(type) >= Rank(shape.Type))
        {
            shape.Type = type;
        }

        shape.Choices ??= choices;
        shape.Min ??= min;
        shape.Max ??= max;
        if (type == KeyTypes.Any)
        {
            // Node() is asked once per typed read: count the asking there.
            shape.Asked++;
            shape.AskedRequired += required ? 1 : 0;
            if (kind is not null)
            {
                shape.Kinds.Add(kind);
            }
        }
    }

    private TableShape Table(string path)
    {
        var normalized = Normalize(path);
        if (!Tables.TryGetValue(normalized, out var table))
        {
            table = new TableShape();
            Tables[normalized] = table;
        }

        return table;
    }

    /// <summary>A map is read as a table first; a specific type wins over "any".</summary>
    private static int Rank(string type) =>
        type switch
        {
            KeyTypes.Any => 0,
            KeyTypes.Table => 1,
            _ => 2,
        };

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex Index();
}
