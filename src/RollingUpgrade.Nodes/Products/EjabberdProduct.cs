using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>ejabberd through <c>ejabberdctl</c> (Debian ships 23.01).</summary>
public sealed class EjabberdProduct(Plan plan, IShellFactory shells, TimeProvider time) : CtlProduct(plan, shells, time)
{
    protected override NodeStatus ParseStatus(NodeSpec node, CtlResult result) => EjabberdStatusParser.Parse(result.ExitCode, result.Text);

    /// <summary><c>mnesia info</c>: running and stopped db nodes (list_cluster shows running nodes only).</summary>
    public override async Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = (await Ctl.RunAsync(node, ["mnesia", "info"], cancellationToken).ConfigureAwait(false)).Require(node.Name, "mnesia info");
        return MnesiaInfoParser.ParseInfo(result.Output);
    }

    /// <summary>Sessions on this node (<c>stats onlineusersnode</c>, from mod_admin_extra); null when not available.</summary>
    public override async Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var result = await Ctl.RunAsync(node, ["stats", "onlineusersnode"], cancellationToken).ConfigureAwait(false);
        return result.Exit == CtlExit.NodeDown ? 0 : ParseCount(result);
    }

    public override async Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seed);
        var result = await Ctl.RunAsync(node, ["join_cluster", seed.ErlangNode], cancellationToken).ConfigureAwait(false);
        result.Require(node.Name, $"join_cluster {seed.ErlangNode}");
        if (result.Text.StartsWith("Error", StringComparison.Ordinal))
        {
            throw new UnexpectedAnswerException($"join_cluster {seed.ErlangNode} on {node.Name}: {result.FirstLine()}");
        }

        await WaitForAsync(node, NodeRunState.Running, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>list_cluster</c>: the running nodes only, one per line, quoted when needed.</summary>
    public async Task<IReadOnlyList<string>> ListClusterAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var result = (await Ctl.RunAsync(node, ["list_cluster"], cancellationToken).ConfigureAwait(false)).Require(node.Name, "list_cluster");
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => ErlangTerms.AtomList($"[{line}]").Single())
            .ToList();
    }

    /// <summary><c>connected_users_number</c>: sessions in the whole cluster (not this node).</summary>
    public async Task<long> ConnectedUsersAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var result = (await Ctl.RunAsync(node, ["connected_users_number"], cancellationToken).ConfigureAwait(false)).Require(node.Name, "connected_users_number");
        return ParseCount(result) ?? throw new UnexpectedAnswerException($"connected_users_number on {node.Name} answered '{result.FirstLine()}'");
    }

    /// <summary>
    /// <c>leave_cluster</c> run from <paramref name="from"/>: removes <paramref name="leaving"/> from the
    /// cluster; ejabberd then halts the leaving node and deletes its mnesia schema.
    /// </summary>
    public async Task LeaveClusterAsync(NodeSpec from, NodeSpec leaving, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leaving);
        var result = await Ctl.RunAsync(from, ["leave_cluster", leaving.ErlangNode], cancellationToken).ConfigureAwait(false);
        result.Require(from.Name, $"leave_cluster {leaving.ErlangNode}");
        await WaitForAsync(leaving, NodeRunState.Stopped, cancellationToken).ConfigureAwait(false);
    }
}
