using System.Collections.Concurrent;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>Shells for a plan's nodes: local processes, or one reused SSH connection per node.</summary>
/// <param name="passphrasePrompt">Asks for an SSH key's passphrase on a terminal; null never asks.</param>
public sealed class ShellFactory(Plan plan, Func<string, string?>? passphrasePrompt = null) : IShellFactory, IDisposable
{
    private readonly ConcurrentDictionary<string, SshConnection> _connections = new(StringComparer.Ordinal);

    public INodeShell For(NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (plan.Access.Kind == AccessKind.Local)
        {
            return new LocalShell();
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(plan.SourcePath)) ?? ".";
        return new SshShell(_connections.GetOrAdd(node.Name, _ => new SshConnection(node, plan.Access, folder, passphrasePrompt)));
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Dispose();
        }
    }
}
