namespace RollingUpgrade.Journaling;

/// <summary>A path of the state folder is something else than the tool made there.</summary>
public sealed class StateFolderException(string path, string problem) : BadStateException($"{path} {problem}")
{
    public string Path { get; } = path;
}
