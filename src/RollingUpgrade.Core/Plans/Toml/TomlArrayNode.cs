namespace RollingUpgrade.Plans.Toml;

internal sealed class TomlArrayNode(SourceLocation location) : TomlNode(location)
{
    public List<TomlNode> Items { get; } = [];

    /// <summary>True for <c>[[name]]</c> arrays of tables, which can be extended by later headers.</summary>
    public bool IsTableArray { get; init; }

    public override string TypeName => IsTableArray ? "an array of tables" : "an array";
}
