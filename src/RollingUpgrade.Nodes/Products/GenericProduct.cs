using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// A product described by commands in the plan. Each operation's output is read by exit code,
/// a regular expression (first group), a JSON path, or one item per line.
/// </summary>
internal sealed class GenericProduct(Plan plan, IShellFactory shells, TimeProvider time, ICommandValues? values = null)
    : IProduct
{
    private readonly ICommandValues _values = values ?? CommandValues.BeforeRun(plan);

    /// <summary>
    /// Without a members command, membership is every node's status, and every verification asks for it: read
    /// afresh each time, a run's status reads grew with the square of its nodes. A status read stands in for the
    /// node for a while instead: at least 2 s (the checks of one round share one read per node), and ten times as
    /// long as the last read of the whole cluster took, so reading the cluster takes at most about a tenth of the
    /// run however many nodes it has (on 1000 local nodes a read of all takes seconds, so a node that fails on its
    /// own is seen within a minute or so; a load balancer's health check sees it sooner). A node this product stops
    /// or starts is read again at once, and the cluster checks at the start and the end read every node afresh.
    /// </summary>
    internal static readonly TimeSpan StatusReuse = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (Task<NodeStatus> Read, DateTimeOffset At)> _seen = new(
        StringComparer.Ordinal
    );

    /// <summary>How long the last membership read that read most nodes afresh took.</summary>
    private TimeSpan _lastClusterRead;

    private TimeSpan Reuse => _lastClusterRead * 10 > StatusReuse ? _lastClusterRead * 10 : StatusReuse;

    public async Task<NodeStatus> StatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var read = ReadStatusAsync(node, cancellationToken);
        _seen[node.Name] = (read, time.GetUtcNow());
        return await read.ConfigureAwait(false);
    }

    /// <summary>A status read no older than <see cref="Reuse"/> (shared while it is under way), or a new one.</summary>
    private Task<NodeStatus> RecentStatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (
            _seen.TryGetValue(node.Name, out var seen)
            && now - seen.At <= Reuse
            && !seen.Read.IsFaulted
            && !seen.Read.IsCanceled
        )
        {
            return seen.Read.WaitAsync(cancellationToken);
        }

        // Shared with other checks of the round, so not ended by this caller's token; the command timeout bounds it.
        var read = ReadStatusAsync(node, CancellationToken.None);
        _seen[node.Name] = (read, now);
        return read.WaitAsync(cancellationToken);
    }

    private async Task<NodeStatus> ReadStatusAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        var status = await RunAsync("status", node, cancellationToken).ConfigureAwait(false);
        if (!status.Succeeded)
        {
            return new NodeStatus(NodeRunState.Stopped, null, status.Summary());
        }

        string? version = null;
        if (Has("version"))
        {
            var result = await RunAsync("version", node, cancellationToken).ConfigureAwait(false);
            version = result.Succeeded ? Extract("version", result.StandardOutput) : null;
        }

        return new NodeStatus(NodeRunState.Running, version, "status command succeeded");
    }

    public async Task<Membership> MembershipAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        if (!Has("members"))
        {
            // Without a membership command, the running nodes are those whose status succeeds (read at once, each
            // read reused for the rest of the round).
            var members = plan.Nodes.Contains(node) ? plan.Nodes : plan.GreenNodes;
            var began = time.GetTimestamp();
            var stale = members.Count(m => !_seen.TryGetValue(m.Name, out var s) || time.GetUtcNow() - s.At > Reuse);
            var statuses = await Task.WhenAll(members.Select(m => RecentStatusAsync(m, cancellationToken)))
                .ConfigureAwait(false);
            if (stale * 2 > members.Count)
            {
                _lastClusterRead = time.GetElapsedTime(began);
            }

            var running = members.Where((_, i) => statuses[i].IsRunning).Select(m => m.ErlangNode).ToList();
            var stopped = members.Where((_, i) => !statuses[i].IsRunning).Select(m => m.ErlangNode).ToList();
            return new Membership(running, stopped);
        }

        var result = await RunAsync("members", node, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new UnexpectedAnswerException(
                $"the members command on {node.Name} exited with {result.ExitCode}: {result.Summary()}"
            );
        }

        var names = ExtractAll("members", result.StandardOutput);
        return new Membership(names, []);
    }

    /// <summary>A generic cluster has no command to end sessions; the load balancers do it.</summary>
    public Task<long?> EvictSessionsAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken) =>
        Task.FromResult<long?>(null);

    public async Task<long?> SessionCountAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        if (!Has("sessions"))
        {
            return null;
        }

        var result = await RunAsync("sessions", node, cancellationToken).ConfigureAwait(false);
        var text = result.Succeeded ? Extract("sessions", result.StandardOutput) : null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw new UnexpectedAnswerException(
                $"the sessions command on {node.Name} answered '{Shorten(result.StandardOutput)}', not a number"
            );
    }

    public async Task StopAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        _seen.TryRemove(node.Name, out _);
        var result = await RunAsync("stop", node, cancellationToken).ConfigureAwait(false);
        // A read that began while the node stopped says nothing of it now.
        _seen.TryRemove(node.Name, out _);
        if (!result.Succeeded)
        {
            throw new UnexpectedAnswerException(
                $"stop on {node.Name} exited with {result.ExitCode}: {result.Summary()}"
            );
        }
    }

    public async Task StartAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        _seen.TryRemove(node.Name, out _);
        var result = await RunAsync("start", node, cancellationToken).ConfigureAwait(false);
        _seen.TryRemove(node.Name, out _);
        if (!result.Succeeded)
        {
            throw new UnexpectedAnswerException(
                $"start on {node.Name} exited with {result.ExitCode}: {result.Summary()}"
            );
        }

        // No deadline of its own: the engine's start_timeout cancels the wait.
        await time.PollAsync(
                TimeSpan.FromMilliseconds(500),
                Timeout.InfiniteTimeSpan,
                ct => StatusAsync(node, ct),
                status => status.IsRunning,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    public async Task JoinClusterAsync(NodeSpec node, NodeSpec seed, CancellationToken cancellationToken)
    {
        if (!Has("join"))
        {
            return;
        }

        var result = await RunAsync("join", node, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new UnexpectedAnswerException(
                $"join on {node.Name} exited with {result.ExitCode}: {result.Summary()}"
            );
        }
    }

    private bool Has(string operation) => plan.Product.Operations.ContainsKey(operation);

    private async Task<CommandResult> RunAsync(string operation, NodeSpec node, CancellationToken cancellationToken)
    {
        var template = plan.Product.Operations[operation].Command;
        await using var shell = shells.For(node);
        return await shell
            .RunAsync(
                template.Render(_values.For(node)),
                new CommandOptions(plan.Access.CommandTimeout, plan.Access.Sudo),
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    private string? Extract(string operation, string output) => ExtractAll(operation, output).FirstOrDefault();

    internal List<string> ExtractAll(string operation, string output)
    {
        var spec = plan.Product.Operations[operation];
        switch (spec.Parse)
        {
            case OutputParse.Regex when spec.Pattern is not null:
                return Regex
                    .Matches(output, spec.Pattern, RegexOptions.Multiline, TimeSpan.FromSeconds(1))
                    .Select(m => m.Groups.Count > 1 ? m.Groups[1].Value : m.Value)
                    .ToList();
            case OutputParse.JsonPath when spec.Pattern is not null:
                return JsonPathReader.Read(output, spec.Pattern);
            case OutputParse.Regex:
                // No pattern: the first non-empty line.
                return output
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Take(1)
                    .ToList();
            default:
                return output
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(l => l.Trim('\''))
                    .ToList();
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text.Trim() : text[..57] + "...";
}
