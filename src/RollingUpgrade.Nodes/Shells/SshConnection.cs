using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Renci.SshNet;
using Renci.SshNet.Common;
using RollingUpgrade.Nodes.Diagnostics;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// One SSH connection to one node: key (or, only when allowed, password) authentication, the
/// host key checked against a pinned fingerprint or known_hosts and refused when unknown or
/// changed, re-opened when it drops.
/// </summary>
/// <param name="passphrasePrompt">Asks for a key's passphrase when the plan gives none (a terminal); null never
/// asks.</param>
/// <param name="log">Diagnostic log: connects, reconnects, failures.</param>
/// <param name="handshakes">Shared by a factory's connections: the key exchanges allowed at once.</param>
internal sealed class SshConnection(
    NodeSpec node,
    AccessSpec access,
    string planFolder,
    Func<string, string?>? passphrasePrompt = null,
    ILogger? log = null,
    SemaphoreSlim? handshakes = null
) : IDisposable
{
    /// <summary>Where connections and commands of this node are logged.</summary>
    internal ILogger Log { get; } = log ?? NullLogger.Instance;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private SshClient? _client;
    private string? _refusal;

    /// <summary>
    /// Asks the operator for a key's passphrase when no environment variable holds it (set by the CLI on a terminal).
    /// </summary>
    public int Port => node.SshPort ?? access.Port;

    public string Target => $"{access.User}@{node.Host}:{Port} ({node.Name})";

    public async Task<SshClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true })
            {
                return _client;
            }

            if (_client is not null)
            {
                NodesLog.SshReconnecting(Log, Target);
            }

            _client?.Dispose();
            _client = null;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var client = new SshClient(ConnectionInfo());
            client.HostKeyReceived += CheckHostKey;
            _refusal = null;
            try
            {
                if (handshakes is not null)
                {
                    await handshakes.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    // The connect timeout counts from the turn of this connection, not from the wait for it.
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(access.ConnectTimeout);
                    await client.ConnectAsync(timeout.Token).ConfigureAwait(false);
                }
                finally
                {
                    handshakes?.Release();
                }
            }
            catch (Exception e) when (_refusal is not null && e is SshConnectionException or SshException)
            {
                client.Dispose();
                throw new HostKeyRefusedException(_refusal);
            }
            catch (SshAuthenticationException e)
            {
                client.Dispose();
                throw new UnexpectedAnswerException(
                    $"SSH authentication to {Target} failed: {e.Message}; check access.user and that the key in "
                        + $"access.key is in the node's authorized_keys"
                );
            }
            catch (Exception e)
                when (e is SshException or System.Net.Sockets.SocketException or OperationCanceledException
                    && !cancellationToken.IsCancellationRequested
                )
            {
                client.Dispose();
                NodesLog.SshConnectFailed(Log, Target, e.Message);
                throw new TransientException($"cannot connect over SSH to {Target}: {e.Message}", e);
            }

            NodesLog.SshConnected(
                Log,
                Target,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds
            );
            _client = client;
            return client;
        }
        finally
        {
            _gate.Release();
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentBag<RemoteShell> _shells = [];

    /// <summary>An idle remote shell on the current connection, or a new one.</summary>
    internal async Task<RemoteShell> RentShellAsync(CancellationToken cancellationToken)
    {
        var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
        while (_shells.TryTake(out var idle))
        {
            if (ReferenceEquals(idle.Client, client) && idle.IsAlive)
            {
                return idle;
            }

            idle.Dispose();
        }

        return await RemoteShell.OpenAsync(client, access.ConnectTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives back a shell whose command finished, for the next command.</summary>
    internal void ReturnShell(RemoteShell shell) => _shells.Add(shell);

    /// <summary>Forgets the connection so the next command opens a new one.</summary>
    public void Invalidate()
    {
        while (_shells.TryTake(out var shell))
        {
            shell.Dispose();
        }

        var client = Interlocked.Exchange(ref _client, null);
        client?.Dispose();
    }

    private ConnectionInfo ConnectionInfo()
    {
        var methods = new List<AuthenticationMethod>();
        if (access.KeyPath is { } keyPath)
        {
            var path = ResolvePath(keyPath);
            var passphrase = access.KeyPassphraseEnv is { } env ? Environment.GetEnvironmentVariable(env) : null;
            PrivateKeyFile key;
            try
            {
                key = passphrase is null ? new PrivateKeyFile(path) : new PrivateKeyFile(path, passphrase);
            }
            catch (SshPassPhraseNullOrEmptyException) when (passphrasePrompt?.Invoke(path) is { Length: > 0 } typed)
            {
                key = new PrivateKeyFile(path, typed);
            }
            catch (SshPassPhraseNullOrEmptyException)
            {
                throw new UnexpectedAnswerException(
                    $"the key {path} is protected by a passphrase; set access.key_passphrase_env and put the "
                        + $"passphrase in that environment variable, or run on a terminal to be asked for it"
                );
            }
            catch (Exception e)
                when (e is SshException or IOException or InvalidOperationException or ArgumentException)
            {
                throw new UnexpectedAnswerException($"cannot read the private key {path}: {e.Message}");
            }

            methods.Add(new PrivateKeyAuthenticationMethod(access.User, key));
        }

        if (
            access.AllowPassword
            && access.PasswordEnv is { } passwordEnv
            && Environment.GetEnvironmentVariable(passwordEnv) is { Length: > 0 } password
        )
        {
            methods.Add(new PasswordAuthenticationMethod(access.User, password));
        }

        if (methods.Count == 0)
        {
            throw new UnexpectedAnswerException(
                $"no way to log in to {Target}: set access.key, or allow_password with password_env set in the "
                    + $"environment"
            );
        }

        return new ConnectionInfo(node.Host, Port, access.User, [.. methods]) { Timeout = access.ConnectTimeout };
    }

    private void CheckHostKey(object? sender, HostKeyEventArgs e)
    {
        var fingerprint = "SHA256:" + e.FingerPrintSHA256.TrimEnd('=');
        var pinned =
            access.HostKeyFingerprints.GetValueOrDefault(node.Name)
            ?? access.HostKeyFingerprints.GetValueOrDefault("*");
        if (pinned is not null)
        {
            e.CanTrust = string.Equals(pinned.TrimEnd('='), fingerprint, StringComparison.Ordinal);
            if (!e.CanTrust)
            {
                _refusal =
                    $"host key of {Target} is {e.HostKeyName} {fingerprint}, not the pinned {pinned}: the key "
                    + $"CHANGED or this is not the node. If the node's key was replaced on purpose, check it on "
                    + $"the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and pin the new one";
            }

            return;
        }

        var knownHostsPath = ResolvePath(access.KnownHostsPath ?? "~/.ssh/known_hosts");
        var verdict = KnownHosts.Load(knownHostsPath).Check(node.Host, Port, e.HostKeyName, e.HostKey);
        e.CanTrust = verdict == KnownHosts.Verdict.Known;
        _refusal = verdict switch
        {
            KnownHosts.Verdict.Known => null,
            KnownHosts.Verdict.Changed =>
                $"host key of {Target} CHANGED: it is now {e.HostKeyName} {fingerprint}, which {knownHostsPath} does "
                    + $"not hold. If this is expected, check it on the node (ssh-keygen -lf "
                    + $"/etc/ssh/ssh_host_*_key.pub), then update {knownHostsPath} or pin it with "
                    + $"access.host_key_fingerprints.{node.Name} = \"{fingerprint}\"",
            KnownHosts.Verdict.Revoked =>
                $"host key of {Target} ({fingerprint}) is marked @revoked in {knownHostsPath}",
            _ => $"host key of {Target} is unknown: {e.HostKeyName} {fingerprint} is not in {knownHostsPath}. Check "
                + $"it on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then pin it with "
                + $"access.host_key_fingerprints.{node.Name} = \"{fingerprint}\" or add it to {knownHostsPath}; "
                + $"unknown keys are never trusted",
        };
    }

    private string ResolvePath(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : Path.GetFullPath(path, planFolder);

    public void Dispose()
    {
        Invalidate();
        _gate.Dispose();
    }
}

/// <summary>The node's host key is unknown, changed or revoked; nothing was sent to it.</summary>
internal sealed class HostKeyRefusedException(string message) : Exception(message);
