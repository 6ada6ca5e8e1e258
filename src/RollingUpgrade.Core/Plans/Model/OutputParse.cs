namespace RollingUpgrade.Plans.Model;

/// <summary>How the generic product turns a command's output into an answer.</summary>
public enum OutputParse
{
    ExitCode,
    Regex,
    JsonPath,
    Lines,
}
