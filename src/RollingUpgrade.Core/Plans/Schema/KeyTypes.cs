namespace RollingUpgrade.Plans.Schema;

/// <summary>How the binder reads a key.</summary>
internal static class KeyTypes
{
    public const string Any = "any";
    public const string String = "string";
    public const string Boolean = "boolean";
    public const string Integer = "integer";
    public const string IntegerOrAuto = "integer-or-auto";
    public const string Duration = "duration";
    public const string Choice = "choice";
    public const string Strings = "strings";
    public const string Integers = "integers";
    public const string Map = "map";
    public const string Table = "table";
    public const string Tables = "tables";
    public const string Command = "command";
    public const string Commands = "commands";
}
