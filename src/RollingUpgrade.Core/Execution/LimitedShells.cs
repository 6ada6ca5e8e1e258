using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Every node command of a run, whoever sends it (a step, the product, a gate), waits for one of
/// <c>access.max_parallel_commands</c> slots: the nodes of a batch run their steps at once, and the control host
/// should not open a process or a connection per node of a large batch at the same instant.
/// </summary>
internal sealed class LimitedShells(IShellFactory inner, int limit) : IShellFactory, IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, limit));

    public INodeShell For(NodeSpec node) => new Shell(inner.For(node), _slots);

    /// <summary>
    /// Ends the connections the wrapped factory keeps. The slots are left as they are: a command still ending after
    /// the run must be able to give its slot back.
    /// </summary>
    public void Dispose() => (inner as IDisposable)?.Dispose();

    private sealed class Shell(INodeShell inner, SemaphoreSlim slots) : INodeShell
    {
        public async Task<CommandResult> RunAsync(
            IReadOnlyList<string> argv,
            CommandOptions options,
            CancellationToken cancellationToken
        )
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await inner.RunAsync(argv, options, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }

        public async Task<CommandResult> ReachAsync(CommandOptions options, CancellationToken cancellationToken)
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await inner.ReachAsync(options, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
