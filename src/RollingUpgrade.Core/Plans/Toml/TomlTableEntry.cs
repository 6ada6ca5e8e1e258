namespace RollingUpgrade.Plans.Toml;

public sealed record TomlTableEntry(string Key, SourceLocation KeyLocation, TomlNode Value);
