namespace RollingUpgrade.Ports;

public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last lines of stderr and stdout, where a failing command says why.</summary>
    public string Tail(int lines = 5)
    {
        static IEnumerable<string> Last(string text, int count) =>
            text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count);
        var tail = Last(StandardError, lines).Concat(Last(StandardOutput, lines)).TakeLast(lines).ToList();
        return tail.Count == 0 ? "(no output)" : string.Join(" | ", tail);
    }

    /// <summary>The first lines of stderr (or stdout) for messages.</summary>
    public string Summary()
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(3);
        return string.Join(" | ", lines);
    }
}
