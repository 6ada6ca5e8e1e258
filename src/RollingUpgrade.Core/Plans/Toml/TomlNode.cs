namespace RollingUpgrade.Plans.Toml;

/// <summary>A TOML value that remembers where it was written, so every error can point at it.</summary>
public abstract class TomlNode(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    /// <summary>How the value is described to a user: "a string", "an integer", "a table"...</summary>
    public abstract string TypeName { get; }
}
