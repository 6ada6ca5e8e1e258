using System.Diagnostics;
using Renci.SshNet;
using Renci.SshNet.Common;
using RollingUpgrade.Nodes.Diagnostics;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// Runs argument vectors on a node over SSH (SSH.NET). The vector is quoted into one command
/// line; sudo is non-interactive. The connection is shared per node and re-opened when it drops.
/// Commands go to a long-lived remote <c>/bin/sh</c> (<see cref="RemoteShell"/>), so the login
/// shell's start-up is paid once per node rather than per command; a command with standard input
/// gets an exec request of its own.
/// </summary>
internal sealed class SshShell(SshConnection connection) : INodeShell
{
    /// <summary>Whether the last command cut short was confirmed gone.</summary>
    private bool Gone { get; set; }

    public async Task<CommandResult> RunAsync(
        IReadOnlyList<string> argv,
        CommandOptions options,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(options);
        // The remote shell runs one simple command: a working folder is entered by a small sh
        // that then becomes the command ($0 is the folder, "$@" the command), so it stays simple.
        IReadOnlyList<string> vector = options.WorkingDirectory is { } folder
            ? ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", folder, .. argv]
            : argv;
        var text = ShellQuote.Join([.. options.Elevation(), .. vector]);
        if (options.StandardInput is null)
        {
            return await RunInShellAsync(text, argv[0], options, cancellationToken).ConfigureAwait(false);
        }

        text = $"printf %s {ShellQuote.Quote(options.StandardInput)} | {text}";
        return await ExecAsync(text, argv[0], options, cancellationToken).ConfigureAwait(false);
    }

    private async Task<CommandResult> RunInShellAsync(
        string text,
        string name,
        CommandOptions options,
        CancellationToken cancellationToken
    )
    {
        var watch = Stopwatch.StartNew();
        RemoteShell? shell = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // Reaching the node (a connection, a shell: connect_timeout) is not the command's time.
            shell = await connection.RentShellAsync(cancellationToken).ConfigureAwait(false);
            timeout.CancelAfter(options.Timeout);
            var (exitCode, output, error) = await shell.RunAsync(text, timeout.Token).ConfigureAwait(false);
            connection.ReturnShell(shell);
            NodesLog.CommandRan(connection.Log, connection.Target, text, exitCode, watch.ElapsedMilliseconds);
            return new CommandResult(exitCode, output, error, watch.Elapsed);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(shell, options).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            if (shell is null)
            {
                // Nothing ran: the shell on the node did not answer within connect_timeout (a slow
                // login, a loaded host).
                throw new TransientException(
                    $"no shell opened on {connection.Target} within access.connect_timeout to run '{name}'; "
                        + "nothing was run"
                );
            }

            NodesLog.CommandTimedOut(connection.Log, connection.Target, text, options.Timeout.TotalSeconds);
            throw new TimeoutException(
                $"'{name}' on {connection.Target} did not finish within {options.Timeout.TotalSeconds:0.#}s; "
                    + (
                        Gone
                            ? "its process group was sent SIGTERM (SIGKILL after 5s) and is gone"
                            : "it was sent SIGTERM and SIGKILL, but whether it is gone could not be confirmed; "
                                + "check the node"
                    )
            );
        }
        catch (Exception e)
            when (e
                    is SshConnectionException
                        or SshException
                        or System.Net.Sockets.SocketException
                        or ObjectDisposedException
                        or IOException
                        or InvalidDataException
            )
        {
            shell?.Dispose();
            connection.Invalidate();
            throw new TransientException(
                $"the SSH connection to {connection.Target} dropped while running '{name}': {e.Message}",
                e
            );
        }
    }

    /// <summary>
    /// A command cut short is sent SIGTERM (as an exec request's would be), and its shell is not used again.
    /// </summary>
    private async Task StopAsync(RemoteShell? shell, CommandOptions options)
    {
        if (shell is null)
        {
            return;
        }

        if (shell.RunningPid is { } pid)
        {
            // The command runs in a process group of its own (setsid): SIGTERM to the group, SIGKILL
            // after the grace period, and it counts as stopped only once no process of it is left.
            var group = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var script =
                $"g={group}; kill -TERM -$g 2>/dev/null; n=0; "
                + "while kill -0 -$g 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done; "
                + "if kill -0 -$g 2>/dev/null; then kill -KILL -$g 2>/dev/null; sleep 0.3; fi; "
                + "! kill -0 -$g 2>/dev/null";
            var text = ShellQuote.Join([.. options.Elevation(), "/bin/sh", "-c", script]);
            try
            {
                var result = await ExecAsync(
                        text,
                        "kill",
                        options with
                        {
                            Timeout = TimeSpan.FromSeconds(15),
                        },
                        CancellationToken.None
                    )
                    .ConfigureAwait(false);
                Gone = result.Succeeded;
            }
            catch (Exception e) when (e is TransientException or TimeoutException)
            {
                // The connection is gone; sshd ends the session and the processes attached to it.
                Gone = false;
            }
        }

        shell.Dispose();
    }

    private async Task<CommandResult> ExecAsync(
        string text,
        string name,
        CommandOptions options,
        CancellationToken cancellationToken
    )
    {
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
            throw new TimeoutException(
                $"'{name}' on {connection.Target} did not finish within {options.Timeout.TotalSeconds:0.#}s and was "
                    + $"cancelled"
            );
        }
        catch (SshOperationTimeoutException)
        {
            throw new TimeoutException(
                $"'{name}' on {connection.Target} did not finish within {options.Timeout.TotalSeconds:0.#}s and was "
                    + $"cancelled"
            );
        }
        catch (Exception e)
            when (e
                    is SshConnectionException
                        or SshException
                        or System.Net.Sockets.SocketException
                        or ObjectDisposedException
            )
        {
            connection.Invalidate();
            throw new TransientException(
                $"the SSH connection to {connection.Target} dropped while running '{name}': {e.Message}",
                e
            );
        }

        return new CommandResult(command.ExitStatus ?? 255, command.Result, command.Error, watch.Elapsed);
    }

    /// <summary>
    /// Opening the node's remote shell proves the key, the host key, the account and its login
    /// shell, and leaves the shell ready for the run's commands; with sudo a command still runs,
    /// since only that shows sudo works without a password.
    /// </summary>
    public async Task<CommandResult> ReachAsync(CommandOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sudo || options.RunAs is not null || options.StandardInput is not null)
        {
            return await RunAsync(["true"], options, cancellationToken).ConfigureAwait(false);
        }

        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            connection.ReturnShell(await connection.RentShellAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"the shell on {connection.Target} did not start within {options.Timeout.TotalSeconds:0.#}s"
            );
        }
        catch (Exception e)
            when (e
                    is SshConnectionException
                        or SshException
                        or System.Net.Sockets.SocketException
                        or ObjectDisposedException
                        or IOException
            )
        {
            connection.Invalidate();
            throw new TransientException($"cannot start a shell on {connection.Target}: {e.Message}", e);
        }

        return new CommandResult(0, string.Empty, string.Empty, watch.Elapsed);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
