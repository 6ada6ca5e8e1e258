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

    public INodeShell For(NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (plan.Access.Kind == AccessKind.Local)
        {
            return new LocalShell(_log);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(plan.SourcePath)) ?? ".";
        return new SshShell(
            _connections.GetOrAdd(node.Name, _ => new SshConnection(node, plan.Access, folder, passphrasePrompt, _log))
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
