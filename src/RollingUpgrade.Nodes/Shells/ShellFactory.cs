using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>Shells for a plan's nodes: local processes, or one reused SSH connection per node.</summary>
/// <param name="passphrasePrompt">Asks for an SSH key's passphrase on a terminal; null never asks.</param>
/// <param name="logging">Diagnostic logging of connections and commands.</param>
public sealed class ShellFactory(
    Plan plan,
    Func<string, string?>? passphrasePrompt = null,
    ILoggerFactory? logging = null
) : IShellFactory, IDisposable
{
    private readonly ILogger _log = (logging ?? NullLoggerFactory.Instance).CreateLogger("RollingUpgrade.Shells");

    private readonly ConcurrentDictionary<string, SshConnection> _connections = new(StringComparer.Ordinal);

    /// <summary>
    /// At most this many SSH key exchanges at once: each costs this machine CPU (key agreement, signatures), and a
    /// run that opens a hundred connections at its first step would otherwise make them all at the same instant.
    /// </summary>
    internal const int MaxHandshakes = 16;

    private readonly SemaphoreSlim _handshakes = new(MaxHandshakes);

    public INodeShell For(NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (plan.Access.Kind == AccessKind.Local)
        {
            return new LocalShell(_log);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(plan.SourcePath)) ?? ".";
        return new SshShell(
            _connections.GetOrAdd(
                node.Name,
                _ => new SshConnection(node, plan.Access, folder, passphrasePrompt, _log, _handshakes)
            )
        );
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Dispose();
        }
    }
}
