namespace RollingUpgrade.Plans.Toml;

/// <summary>A table whose entries keep the order and the location of their keys.</summary>
public sealed class TomlTableNode(SourceLocation location) : TomlNode(location)
{
    private readonly Dictionary<string, TomlTableEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>
    /// Created implicitly by a dotted key or a nested header, so a later <c>[header]</c> may still define it.
    /// </summary>
    public bool IsImplicit { get; set; }

    /// <summary>Closed for new keys (inline tables, and tables whose header was already used).</summary>
    public bool IsSealed { get; set; }

    public override string TypeName => "a table";

    public IEnumerable<TomlTableEntry> Entries => _order.Select(k => _entries[k]);

    public bool TryGet(string key, out TomlTableEntry entry) => _entries.TryGetValue(key, out entry!);

    public void Add(TomlTableEntry entry)
    {
        _entries.Add(entry.Key, entry);
        _order.Add(entry.Key);
    }
}
