namespace RollingUpgrade.Plans.Model;

/// <summary>How the generic product turns a command's output into an answer.</summary>
public enum OutputParse
{
    ExitCode,
    Regex,
    JsonPath,
    Lines,
}

/// <summary>A generic product operation: a command and how to read its answer.</summary>
public sealed record GenericOperation(CommandTemplate Command, OutputParse Parse, string? Pattern);
