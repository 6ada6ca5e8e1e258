namespace RollingUpgrade.Plans.Toml;

/// <summary>A scalar: string, integer, float, boolean or date-time.</summary>
internal sealed class TomlValueNode(SourceLocation location, object value) : TomlNode(location)
{
    public object Value { get; } = value;

    public override string TypeName =>
        Value switch
        {
            string => "a string",
            long => "an integer",
            double => "a float",
            bool => "a boolean",
            _ => "a date-time",
        };
}
