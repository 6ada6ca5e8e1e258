using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    private static async Task CheckClusterAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var nodes = step.Nodes.Select(context.Node).ToList();
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        var reach = ReachAllAsync(context, nodes, cancellationToken);
        var read = StatusOfAllAsync(context, nodes, cancellationToken);
        await Task.WhenAll(reach, read).ConfigureAwait(false);
        foreach (var (node, status) in await read.ConfigureAwait(false))
        {
            if (!status.IsRunning)
            {
                throw new StepFailedException(
                    $"{node.Name} is not started ({status.Detail}); every node must run before the upgrade begins",
                    nodeTouched: false
                );
            }

            versions[node.Name] = status.Version ?? string.Empty;
        }

        await ExpectMembershipAsync(context, nodes[0], nodes, nodeTouched: false, cancellationToken)
            .ConfigureAwait(false);
        await ExpectInRotationAsync(step, context, nodes, cancellationToken).ConfigureAwait(false);
        await ExpectRedundancyBeforeStartAsync(context, cancellationToken).ConfigureAwait(false);

        var distinct = versions.Values.Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 1)
        {
            throw new StepFailedException(
                $"the cluster already runs mixed versions ("
                    + $"{string.Join(", ", versions.Select(v => $"{v.Key}={v.Value}"))}); finish or resume the earlier "
                    + $"run first",
                nodeTouched: false
            );
        }

        var current = distinct[0];
        if (
            context.Plan.Upgrade.FromVersion is { } expected
            && current.Length > 0
            && !Versions.Matches(current, expected)
        )
        {
            throw new StepFailedException(
                $"the nodes run {current}, not {expected} as 'upgrade.from_version' says; correct the plan",
                nodeTouched: false
            );
        }

        if (
            context.Plan.Upgrade.Install is not null
            && context.Plan.Strategy is RollingStrategySpec
            && current.Length > 0
            && Versions.Matches(current, context.Plan.Upgrade.TargetVersion)
        )
        {
            throw new StepFailedException(
                $"every node already runs {current}; there is nothing to upgrade",
                nodeTouched: false
            );
        }

        if (context.Facts.Get(RunState.FromVersion) is null && current.Length > 0)
        {
            context.Fact(RunState.FromVersion, current);
        }

        await ExpectStagingRunAsync(step, context, current.Length > 0 ? current : context.Plan.Upgrade.FromVersion)
            .ConfigureAwait(false);

        context.Emit(
            RunEventTypes.Progress,
            $"{nodes.Count} node(s) started on {(current.Length > 0 ? current : "an unreported version")}, "
                + $"membership exact",
            step
        );
    }

    /// <summary>
    /// Staging first: a cluster with cluster.requires_staging starts only after a succeeded run of the same
    /// from -> to versions on that cluster (in the same state store), unless the operator overrides it with a reason
    /// (recorded in the journal).
    /// </summary>
    private static async Task ExpectStagingRunAsync(Step step, RunContext context, string? from)
    {
        if (context.Plan.Cluster.RequiresStaging is not { } staging)
        {
            return;
        }

        var to = context.Plan.Upgrade.TargetVersion;
        var now = context.Time.GetUtcNow();
        var found = from is null
            ? null
            : await RunHistory
                .StagingRunAsync(context.Store, staging, from, to, context.Plan.Cluster.StagingMaxAge, now)
                .ConfigureAwait(false);
        if (found is not null)
        {
            context.Emit(
                RunEventTypes.Progress,
                $"staging first: run {found.RunId} on {staging} upgraded {found.FromVersion} -> {found.ToVersion} "
                    + $"{RunHistory.Age(now - found.FinishedAt!.Value)}",
                step
            );
            return;
        }

        var missing =
            $"{context.Plan.Cluster.Name} requires a succeeded run of {from ?? "(unknown)"} -> {to} on {staging}"
            + (context.Plan.Cluster.StagingMaxAge is { } age ? $" within {DurationText.Format(age)}" : string.Empty)
            + $", and the state store ({context.Store.Describe(staging)}) holds none";
        if (!context.OverrideStaging)
        {
            throw new StepFailedException(
                $"{missing}: upgrade {staging} first, or go ahead with --override-staging --reason TEXT",
                nodeTouched: false
            );
        }

        var who = Audit.Who(context);
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.StagingOverride,
                Phase = RunPhase.Forward.Text(),
                Message = missing,
                Data = who,
            }
        );
        context.Emit(RunEventTypes.Warning, $"{missing}; overridden by {context.Operator}: {context.Reason}", step);
    }

    private static Task ListMigrationsAsync(Step step, RunContext context)
    {
        var from = context.Facts.Get(RunState.FromVersion) ?? context.Plan.Upgrade.FromVersion;
        if (from is null)
        {
            context.Emit(RunEventTypes.Warning, "the running version is unknown; no migration guides listed", step);
            return Task.CompletedTask;
        }

        var guides = MigrationCatalog.Between(from, context.Plan.Upgrade.TargetVersion);
        foreach (var guide in guides)
        {
            context.Emit(
                RunEventTypes.Progress,
                $"migration guide {guide.Name}: {guide.Summary}"
                    + $"{(guide.HasDatabaseMigration ? " [database migration]" : string.Empty)}",
                step
            );
        }

        var blocking = MigrationCatalog.Blocking(guides, context.Plan.Product.InternalDatabase);
        if (blocking.Count > 0 && context.Plan.Strategy is RollingStrategySpec)
        {
            throw new StepFailedException(
                "upstream says a rolling upgrade is not supported across "
                    + $"{string.Join(", ", blocking.Select(g => g.Hop))}; instead: "
                    + MigrationCatalog.Instead(blocking),
                nodeTouched: false
            );
        }

        var unconfirmed = guides
            .Where(g => g.HasDatabaseMigration && !context.Plan.Upgrade.MigrationsApplied.Contains(g.Hop))
            .ToList();
        if (unconfirmed.Count > 0)
        {
            throw new StepFailedException(
                $"{from} -> {context.Plan.Upgrade.TargetVersion} changes the database schema at "
                    + $"{string.Join(", ", unconfirmed.Select(g => $"{g.Hop} ({g.Summary})"))}, and the plan does not "
                    + "confirm it was applied. Apply upstream's scripts (priv/migrations/<database>_<FROM>_<TO>.sql, "
                    + "the guides doc/migrations/<FROM>_<TO>.md) to the database, then add [upgrade] "
                    + $"migrations_applied = [{string.Join(", ", unconfirmed.Select(g => $"\"{g.Hop}\""))}] and run "
                    + "again",
                nodeTouched: false
            );
        }

        if (guides.Count == 0)
        {
            context.Emit(
                RunEventTypes.Progress,
                $"no migration guide between {from} and {context.Plan.Upgrade.TargetVersion}",
                step
            );
        }

        return Task.CompletedTask;
    }

    private static async Task VerifyClusterAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var nodes = step.Nodes.Select(context.Node).ToList();
        foreach (var (node, status) in await StatusOfAllAsync(context, nodes, cancellationToken).ConfigureAwait(false))
        {
            if (
                !status.IsRunning
                || (step.ExpectedVersion is { } expected && !Versions.Matches(status.Version ?? string.Empty, expected))
            )
            {
                throw new StepFailedException(
                    $"{node.Name} reports {status.State} {status.Version}; expected started on "
                        + $"{step.ExpectedVersion ?? step.Version}"
                );
            }
        }

        await ExpectMembershipAsync(context, nodes[0], nodes, nodeTouched: true, cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task VerifyGreenAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var green = step.Nodes.Select(context.Node).ToList();
        await ExpectMembershipAsync(context, green[0], green, nodeTouched: true, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// A command on every node at once, before anything is touched: the way in (SSH keys, host keys,
    /// sudo) is proven for all of them even when the product answers over HTTP, and the connections
    /// the later steps use are open.
    /// </summary>
    private static async Task ReachAllAsync(
        RunContext context,
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        await Task.WhenAll(
                nodes.Select(async node =>
                {
                    await using var shell = context.Shells.For(node);
                    var result = await shell
                        .ReachAsync(context.CommandOptions(), cancellationToken)
                        .ConfigureAwait(false);
                    if (!result.Succeeded)
                    {
                        throw new StepFailedException(
                            $"cannot run commands on {node.Name}: 'true' exited with {result.ExitCode}: "
                                + $"{result.Summary()}; fix [access] (user, sudo) before the upgrade",
                            nodeTouched: false
                        );
                    }
                })
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Every node's status, asked of all nodes at once (each has its own connection); reported in plan order.
    /// </summary>
    private static async Task<IReadOnlyList<(NodeSpec Node, NodeStatus Status)>> StatusOfAllAsync(
        RunContext context,
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        var statuses = await Task.WhenAll(nodes.Select(n => context.Product.StatusAsync(n, cancellationToken)))
            .ConfigureAwait(false);
        return nodes.Zip(statuses).ToList();
    }

    /// <summary>
    /// Running db nodes, as <paramref name="viewer"/> sees them, must be exactly <paramref name="expected"/>.
    /// </summary>
    internal static async Task ExpectMembershipAsync(
        RunContext context,
        NodeSpec viewer,
        IReadOnlyList<NodeSpec> expected,
        bool nodeTouched,
        CancellationToken cancellationToken
    )
    {
        var membership = await context.Product.MembershipAsync(viewer, cancellationToken).ConfigureAwait(false);
        var problem = MembershipCheck.Compare(membership, expected.Select(n => n.ErlangNode).ToList());
        if (problem is not null)
        {
            throw new StepFailedException(
                $"membership seen from {viewer.Name}: {problem}{CrossedSides(context, membership, expected)}",
                nodeTouched
            );
        }
    }

    /// <summary>
    /// Parallel: a node of the other side among the members means the two clusters merged. CETS nodes join
    /// whatever shares their cluster_name and discovery backend, so the fix is named.
    /// </summary>
    private static string CrossedSides(RunContext context, Membership membership, IReadOnlyList<NodeSpec> expected)
    {
        if (context.Plan.Strategy is not ParallelStrategySpec parallel)
        {
            return string.Empty;
        }

        var others = context
            .Plan.Nodes.Concat(parallel.GreenNodes)
            .Where(n => !expected.Contains(n) && membership.Running.Contains(n.ErlangNode))
            .Select(n => n.Name)
            .ToList();
        if (others.Count == 0)
        {
            return string.Empty;
        }

        return $". The blue and green clusters merged ({string.Join(", ", others)} joined)"
            + (
                context.Plan.Product.UsesCets
                    ? ": CETS nodes join every node with the same internal_databases.cets.cluster_name and discovery "
                        + "backend; give the green nodes another cluster_name (or another discovery table or file)"
                    : ": the green nodes must form a cluster of their own (check the seed they join)"
            );
    }

    /// <summary>
    /// A new run starts from a cluster in rotation: a node already drained or in maintenance was
    /// left so by a dead run or another tool, and the run does not quietly build on it.
    /// </summary>
    private static async Task ExpectInRotationAsync(
        Step step,
        RunContext context,
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        var outOf = new List<string>();
        foreach (var lb in context.LoadBalancers)
        {
            foreach (var state in await lb.ReadAsync(nodes, cancellationToken).ConfigureAwait(false))
            {
                if (state.Admin != ServerAdminState.Ready)
                {
                    outOf.Add($"{state.Node} is {state.Admin.ToString().ToLowerInvariant()} in {lb.Name}");
                }
            }
        }

        if (outOf.Count == 0)
        {
            return;
        }

        if (context.AdoptDrained)
        {
            context.Emit(
                RunEventTypes.Warning,
                $"taking the cluster as it is (--adopt-drained): {string.Join("; ", outOf)}",
                step
            );
            return;
        }

        throw new StepFailedException(
            $"{string.Join("; ", outOf)}, before this run touched anything (left by an earlier run or another tool). "
                + "Return it to rotation first (or resume the run that drained it), or pass --adopt-drained to start "
                + "from the cluster as it is",
            nodeTouched: false
        );
    }
}
