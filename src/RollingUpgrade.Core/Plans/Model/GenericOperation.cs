namespace RollingUpgrade.Plans.Model;

/// <summary>A generic product operation: a command and how to read its answer.</summary>
public sealed record GenericOperation(CommandTemplate Command, OutputParse Parse, string? Pattern);
