namespace RollingUpgrade.Ports;

/// <summary>Runs argument vectors on one node (over SSH or locally).</summary>
public interface INodeShell : IAsyncDisposable
{
    Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CommandOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Proves the way in before anything is touched: by default a command that does nothing; a
    /// shell with a cheaper proof (an authenticated SSH session, when no sudo is involved) uses it.
    /// </summary>
    Task<CommandResult> ReachAsync(CommandOptions options, CancellationToken cancellationToken) => RunAsync(["true"], options, cancellationToken);
}

/// <param name="WorkingDirectory">Where the command runs; null for the shell's own default.</param>
public sealed record CommandOptions(TimeSpan Timeout, bool Sudo = false, string? StandardInput = null, string? WorkingDirectory = null);

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

public interface IShellFactory
{
    INodeShell For(Plans.Model.NodeSpec node);
}
