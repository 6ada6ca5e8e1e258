using System.Diagnostics;
using Renci.SshNet;
using Renci.SshNet.Common;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// Runs argument vectors on a node over SSH (SSH.NET). The vector is quoted into one command
/// line for the remote shell; sudo is non-interactive. The connection is shared per node and
/// re-opened when it drops.
/// </summary>
public sealed class SshShell(SshConnection connection) : INodeShell
{
    public async Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CommandOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(options);
        var text = (options.Sudo ? "sudo -n -- " : string.Empty) + ShellQuote.Join(argv);
        if (options.StandardInput is not null)
        {
            text = $"printf %s {ShellQuote.Quote(options.StandardInput)} | {text}";
        }

        var client = await connection.ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
        using var command = client.CreateCommand(text);
        command.CommandTimeout = options.Timeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var watch = Stopwatch.StartNew();
        try
        {
            await command.ExecuteAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"'{argv[0]}' on {connection.Target} did not finish within {options.Timeout.TotalSeconds:0.#}s and was cancelled");
        }
        catch (SshOperationTimeoutException)
        {
            throw new TimeoutException($"'{argv[0]}' on {connection.Target} did not finish within {options.Timeout.TotalSeconds:0.#}s and was cancelled");
        }
        catch (Exception e) when (e is SshConnectionException or SshException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            connection.Invalidate();
            throw new TransientException($"the SSH connection to {connection.Target} dropped while running '{argv[0]}': {e.Message}", e);
        }

        return new CommandResult(command.ExitStatus ?? 255, command.Result, command.Error, watch.Elapsed);
    }

    /// <summary>
    /// An authenticated session proves the key, the host key and the account; with sudo the
    /// command still runs, since only it can show that sudo works without a password.
    /// </summary>
    public async Task<CommandResult> ReachAsync(CommandOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sudo || options.StandardInput is not null)
        {
            return await RunAsync(["true"], options, cancellationToken).ConfigureAwait(false);
        }

        var watch = Stopwatch.StartNew();
        await connection.ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
        return new CommandResult(0, string.Empty, string.Empty, watch.Elapsed);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
