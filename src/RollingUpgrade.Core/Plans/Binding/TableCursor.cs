using RollingUpgrade.Plans.Toml;

namespace RollingUpgrade.Plans.Binding;

/// <summary>
/// Reads the keys of one TOML table with type checks, remembers which keys were read, and
/// reports every key left unread as unknown, with the closest known key as a suggestion.
/// </summary>
public sealed class TableCursor
{
    private readonly TomlTableNode _table;
    private readonly DiagnosticSink _sink;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public TableCursor(TomlTableNode table, string path, DiagnosticSink sink)
    {
        _table = table;
        Path = path;
        _sink = sink;
        if (path.Length > 0)
        {
            sink.Locations.TryAdd(path, table.Location);
        }

        sink.Recorder?.TableSeen(path, Kind);
    }

    /// <summary>The table's <c>kind</c> when it has one (for the schema: which keys belong to which kind).</summary>
    private string? Kind =>
        _table.TryGet("kind", out var entry) && entry.Value is TomlValueNode { Value: string kind } ? kind : null;

    /// <summary>Records how a key is read, for the plan schema.</summary>
    internal void Shape(
        string key,
        string type,
        IReadOnlyList<string>? choices = null,
        long? min = null,
        long? max = null
    ) => _sink.Recorder?.Record(Path, Kind, key, type, required: false, choices, min, max);

    /// <summary>Dotted path of this table in the plan, such as <c>strategy.rolling</c> or <c>nodes[2]</c>.</summary>
    public string Path { get; }

    public SourceLocation Location => _table.Location;

    public DiagnosticSink Sink => _sink;

    public bool Has(string key)
    {
        _known.Add(key);
        return _table.TryGet(key, out _);
    }

    public SourceLocation LocationOf(string key) =>
        _table.TryGet(key, out var entry) ? entry.Value.Location : _table.Location;

    public string Describe(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public TomlNode? Node(string key, bool required)
    {
        _known.Add(key);
        _sink.Recorder?.Record(Path, Kind, key, Schema.KeyTypes.Any, required);
        if (_table.TryGet(key, out var entry))
        {
            _sink.Locations[Describe(key)] = entry.KeyLocation;
            return entry.Value;
        }

        if (required)
        {
            _sink.Error(_table.Location, $"missing required key '{Describe(key)}'");
        }

        return null;
    }

    public string? String(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.String);
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is TomlValueNode { Value: string value })
        {
            return value;
        }

        _sink.Error(node.Location, $"'{Describe(key)}' must be a string, not {node.TypeName}");
        return null;
    }

    public bool? Bool(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.Boolean);
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is TomlValueNode { Value: bool value })
        {
            return value;
        }

        _sink.Error(node.Location, $"'{Describe(key)}' must be a boolean (true or false), not {node.TypeName}");
        return null;
    }

    public long? Integer(string key, bool required = false, long min = long.MinValue, long max = long.MaxValue)
    {
        Shape(
            key,
            Schema.KeyTypes.Integer,
            min: min == long.MinValue ? null : min,
            max: max == long.MaxValue ? null : max
        );
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not TomlValueNode { Value: long value })
        {
            _sink.Error(node.Location, $"'{Describe(key)}' must be an integer, not {node.TypeName}");
            return null;
        }

        if (value < min || value > max)
        {
            var range = max == long.MaxValue ? $"at least {min}" : $"between {min} and {max}";
            _sink.Error(node.Location, $"'{Describe(key)}' is {value}; it must be {range}");
            return null;
        }

        return value;
    }

    /// <summary>An integer in a range, or the string "auto" (returned as <c>Auto</c> true).</summary>
    public (long? Value, bool Auto) IntegerOrAuto(string key, long min, long max)
    {
        Shape(key, Schema.KeyTypes.IntegerOrAuto, min: min, max: max);
        var node = Node(key, required: false);
        if (node is TomlValueNode { Value: string text })
        {
            if (text == "auto")
            {
                return (null, true);
            }

            _sink.Error(node.Location, $"'{Describe(key)}' is '{Shorten(text)}'; write an integer or \"auto\"");
            return (null, false);
        }

        return (Integer(key, min: min, max: max), false);
    }

    /// <param name="positive">A timeout: zero is refused (it would fail every call at once).</param>
    public TimeSpan? Duration(string key, bool required = false, bool positive = false)
    {
        Shape(key, Schema.KeyTypes.Duration);
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is TomlValueNode { Value: string text } && DurationText.TryParse(text, out var value))
        {
            if (positive && value <= TimeSpan.Zero)
            {
                _sink.Error(
                    node.Location,
                    $"'{Describe(key)}' is '{text}'; a timeout must be longer than zero, such as \"30s\""
                );
                return null;
            }

            return value;
        }

        var shown = node is TomlValueNode { Value: string s } ? $"'{Shorten(s)}'" : node.TypeName;
        _sink.Error(
            node.Location,
            $"'{Describe(key)}' is {shown}; write a duration such as \"30s\", \"5m\" or \"1h30m\""
        );
        return null;
    }

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public string? Choice(string key, IReadOnlyList<string> allowed, bool required = false, string? fallback = null)
    {
        var value = String(key, required);
        Shape(key, Schema.KeyTypes.Choice, allowed);
        if (value is null)
        {
            return fallback;
        }

        if (allowed.Contains(value, StringComparer.Ordinal))
        {
            return value;
        }

        _sink.Error(
            LocationOf(key),
            $"'{Describe(key)}' is '{Shorten(value)}'{Suggestions.DidYouMean(value, allowed)}"
        );
        return null;
    }

    public IReadOnlyList<string>? StringArray(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.Strings);
        return ScalarArray<string>(key, required, "strings");
    }

    public IReadOnlyList<long>? IntegerArray(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.Integers);
        return ScalarArray<long>(key, required, "integers");
    }

    /// <summary>A table whose keys are free (node names, load balancer names) and whose values are strings.</summary>
    public Dictionary<string, string> StringMap(string key, Func<string, string?> rule, string expected)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        Shape(key, Schema.KeyTypes.Map);
        if (Table(key) is not { } map)
        {
            return result;
        }

        foreach (var entry in map.Entries())
        {
            if (entry.Value is TomlValueNode { Value: string value } && rule(value) is null)
            {
                result[entry.Key] = value;
            }
            else
            {
                _sink.Error(entry.Value.Location, $"'{map.Describe(entry.Key)}' must be {expected}");
            }
        }

        return result;
    }

    private List<T>? ScalarArray<T>(string key, bool required, string what)
    {
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not TomlArrayNode { IsTableArray: false } array)
        {
            _sink.Error(node.Location, $"'{Describe(key)}' must be an array of {what}, not {node.TypeName}");
            return null;
        }

        var result = new List<T>();
        foreach (var item in array.Items)
        {
            if (item is not TomlValueNode { Value: T value })
            {
                _sink.Error(item.Location, $"'{Describe(key)}' must hold only {what}; found {item.TypeName}");
                return null;
            }

            result.Add(value);
        }

        return result;
    }

    public TableCursor? Table(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.Table);
        var node = Node(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is TomlTableNode table)
        {
            return new TableCursor(table, Describe(key), _sink);
        }

        _sink.Error(node.Location, $"'{Describe(key)}' must be a table, not {node.TypeName}");
        return null;
    }

    /// <summary>An array of tables, written either as <c>[[key]]</c> headers or as an array of inline tables.</summary>
    public IReadOnlyList<TableCursor> TableArray(string key, bool required = false)
    {
        Shape(key, Schema.KeyTypes.Tables);
        var node = Node(key, required);
        if (node is null)
        {
            return [];
        }

        if (node is not TomlArrayNode array)
        {
            _sink.Error(
                node.Location,
                $"'{Describe(key)}' must be an array of tables ([[{Describe(key)}]]), not {node.TypeName}"
            );
            return [];
        }

        var result = new List<TableCursor>();
        for (var i = 0; i < array.Items.Count; i++)
        {
            if (array.Items[i] is TomlTableNode table)
            {
                result.Add(new TableCursor(table, $"{Describe(key)}[{i + 1}]", _sink));
            }
            else
            {
                _sink.Error(
                    array.Items[i].Location,
                    $"'{Describe(key)}' must hold only tables; found {array.Items[i].TypeName}"
                );
            }
        }

        return result;
    }

    /// <summary>Every key of this table (for tables that are maps, such as <c>lb_ids</c>).</summary>
    public IEnumerable<TomlTableEntry> Entries()
    {
        _sink.Recorder?.FreeKeys(Path);
        foreach (var entry in _table.Entries)
        {
            _known.Add(entry.Key);
            _sink.Locations[Describe(entry.Key)] = entry.KeyLocation;
            yield return entry;
        }
    }

    /// <summary>Keys that belong to another kind of this table: named in suggestions, refused when present.</summary>
    public void RejectKeysOfOtherKinds(IEnumerable<string> keys, string reason)
    {
        foreach (var key in keys)
        {
            if (_known.Add(key) && _table.TryGet(key, out var entry))
            {
                _sink.Error(entry.KeyLocation, $"'{Describe(key)}' {reason}");
            }
        }
    }

    /// <summary>Reports every key that no reader asked for.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var entry in _table.Entries)
        {
            if (!_known.Contains(entry.Key))
            {
                _sink.Error(
                    entry.KeyLocation,
                    $"unknown key '{Describe(entry.Key)}'{Suggestions.DidYouMean(entry.Key, _known)}"
                );
            }
        }
    }

    internal static string Shorten(string value)
    {
        var printable = new string(value.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return printable.Length <= 60 ? printable : printable[..57] + "...";
    }
}
