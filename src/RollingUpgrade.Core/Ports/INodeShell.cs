namespace RollingUpgrade.Ports;

/// <summary>Runs argument vectors on one node (over SSH or locally).</summary>
public interface INodeShell : IAsyncDisposable
{
    Task<CommandResult> RunAsync(
        IReadOnlyList<string> argv,
        CommandOptions options,
        CancellationToken cancellationToken
    );

    /// <summary>
    /// Proves the way in before anything is touched: by default a command that does nothing; a
    /// shell with a cheaper proof (an authenticated SSH session, when no sudo is involved) uses it.
    /// </summary>
    Task<CommandResult> ReachAsync(CommandOptions options, CancellationToken cancellationToken) =>
        RunAsync(["true"], options, cancellationToken);
}
