using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Toml;

namespace RollingUpgrade.Plans.Validation;

/// <summary>Rules that span several parts of a plan: uniqueness, coverage, capacity, policies.</summary>
internal sealed class PlanRules(
    DiagnosticSink sink,
    IReadOnlyDictionary<NodeSpec, SourceLocation> nodeLocations,
    IReadOnlySet<string> declaredLoadBalancers,
    int declaredNodes
)
{
    public void Check(Plan plan)
    {
        var all = plan.Nodes.Concat(plan.GreenNodes).ToList();
        Unique(all, n => n.Name, "node name", "give each node its own name");
        Unique(
            all,
            n => $"{n.Host}:{n.SshPort ?? plan.Access.Port}",
            "node address",
            "each node needs its own host (or ssh_port)",
            n => n.Host
        );
        Unique(all, n => n.ErlangNode, "Erlang node name", "each node has its own Erlang node name");
        CheckLoadBalancerIds(plan, all);
        CheckProduct(plan, all);
        CheckUpgrade(plan);
        CheckConfigPaths(plan);
        CheckGates(plan);
        CheckNodeVariables(plan, all);
        CheckPerNodeAddresses(plan, all);
        CheckAwsRegions(plan);
        switch (plan.Strategy)
        {
            case RollingStrategySpec rolling:
                CheckRolling(plan, rolling);
                break;
            case ParallelStrategySpec parallel:
                CheckParallel(plan, parallel);
                break;
        }

        if (plan.Access.Kind == AccessKind.Ssh)
        {
            foreach (var key in plan.Access.HostKeyFingerprints.Keys.Where(k => k != "*" && all.All(n => n.Name != k)))
            {
                sink.Error(
                    Loc(plan, $"access.host_key_fingerprints.{key}"),
                    $"'access.host_key_fingerprints.{key}' names no node"
                        + $"{Suggestions.DidYouMean(key, all.Select(n => n.Name))}"
                );
            }
        }
    }

    private void Unique(
        List<NodeSpec> nodes,
        Func<NodeSpec, string> key,
        string what,
        string fix,
        Func<NodeSpec, string>? shown = null
    )
    {
        var seen = new Dictionary<string, NodeSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in nodes)
        {
            if (!seen.TryAdd(key(node), node))
            {
                var first = seen[key(node)];
                var owner = first.Name == node.Name ? string.Empty : $" of node '{node.Name}'";
                var other = first.Name == node.Name ? "another node" : $"node '{first.Name}'";
                sink.Error(
                    At(node),
                    $"{what} '{(shown ?? key)(node)}'{owner} is already used by {other} at {At(first).LineText}; {fix}"
                );
            }
        }
    }

    private void CheckLoadBalancerIds(Plan plan, List<NodeSpec> nodes)
    {
        var names = plan.LoadBalancers.Select(l => l.Name).ToList();
        foreach (var node in nodes)
        {
            foreach (var key in node.LoadBalancerIds.Keys.Where(k => !declaredLoadBalancers.Contains(k)))
            {
                sink.Error(
                    At(node),
                    $"node '{node.Name}' has an id in load balancer '{key}', which the plan does not declare"
                        + $"{Suggestions.DidYouMean(key, names)}"
                );
            }

            foreach (var lb in names.Where(l => !node.LoadBalancerIds.ContainsKey(l)))
            {
                sink.Error(
                    At(node),
                    $"node '{node.Name}' is missing from load balancer '{lb}'; add lb_ids.{lb} = \"<its server id in "
                        + $"{lb}>\" to the node"
                );
            }
        }

        foreach (var spec in plan.LoadBalancers)
        {
            var lb = spec.Name;
            CheckBackendIds(plan, spec, nodes);
            var backends =
                spec.Settings is HAProxySettings haproxy && nodes.Any(n => n.BackendIds.ContainsKey(lb))
                    ? haproxy.Backends
                    : [string.Empty];
            foreach (var backend in backends)
            {
                var seen = new Dictionary<string, NodeSpec>(StringComparer.Ordinal);
                foreach (var node in nodes.Where(n => n.LoadBalancerIds.ContainsKey(lb)))
                {
                    var id = backend.Length == 0 ? node.IdIn(lb) : node.IdIn(lb, backend);
                    var where = backend.Length == 0 ? string.Empty : $" (backend {backend})";
                    if (!seen.TryAdd(id, node))
                    {
                        sink.Error(
                            At(node),
                            $"node '{node.Name}' has server id '{id}' in load balancer '{lb}'{where}, the same as "
                                + $"node '{seen[id].Name}'; each node needs its own server"
                        );
                    }
                }
            }
        }
    }

    /// <summary>A table of backend names in lb_ids is for HAProxy, and names every configured backend.</summary>
    private void CheckBackendIds(Plan plan, LoadBalancerSpec spec, List<NodeSpec> nodes)
    {
        foreach (var node in nodes)
        {
            if (!node.BackendIds.TryGetValue(spec.Name, out var names))
            {
                continue;
            }

            var where = plan.LocationOf($"{plan.PathOf(node)}.lb_ids.{spec.Name}");
            if (spec.Settings is not HAProxySettings haproxy)
            {
                sink.Error(
                    where,
                    $"node '{node.Name}': lb_ids.{spec.Name} names backends, but '{spec.Name}' is {spec.Kind}, which "
                        + "has one server id per node; write lb_ids."
                        + spec.Name
                        + " = \"<server id>\""
                );
                continue;
            }

            foreach (var backend in names.Keys.Where(b => !haproxy.Backends.Contains(b)))
            {
                sink.Error(
                    plan.LocationOf($"{plan.PathOf(node)}.lb_ids.{spec.Name}.{backend}"),
                    $"node '{node.Name}': lb_ids.{spec.Name} names backend '{backend}', which is not in "
                        + $"'{spec.Name}'s backends ({string.Join(", ", haproxy.Backends)})"
                        + $"{Suggestions.DidYouMean(backend, haproxy.Backends)}"
                );
            }

            foreach (var backend in haproxy.Backends.Where(b => !names.ContainsKey(b)))
            {
                sink.Error(
                    where,
                    $"node '{node.Name}': lb_ids.{spec.Name} names the node's server in some backends but not in "
                        + $"'{backend}'; add {backend} = \"<its server id there>\""
                );
            }
        }
    }

    private void CheckProduct(Plan plan, List<NodeSpec> nodes)
    {
        // ELBv2 says only "draining"; a generic node without a sessions command cannot count either.
        if (
            plan.Product.Kind == ProductKind.Generic
            && !plan.Product.Operations.ContainsKey("sessions")
            && plan.LoadBalancers.Count > 0
            && plan.LoadBalancers.All(lb => lb.Kind == LoadBalancerKinds.AwsElbV2)
        )
        {
            sink.Warning(
                Loc(plan, "product.commands"),
                "nothing counts a node's connections: the load balancers do not count them and "
                    + "product.commands has no 'sessions'; each drain lasts its whole timeout, then on_timeout "
                    + "decides. Add a sessions command to drain as soon as the node is empty"
            );
        }

        if (
            plan.Upgrade.SingleCopyTables.Count > 0
            && (plan.Product.Kind == ProductKind.Generic || !plan.Product.UsesMnesia)
        )
        {
            sink.Warning(
                Loc(plan, "upgrade.single_copy_tables"),
                "'upgrade.single_copy_tables' names mnesia tables, but these nodes do not run mnesia; remove it"
            );
        }

        if (plan.Product.Kind != ProductKind.MongooseIm)
        {
            return;
        }

        if (plan.Product.UsesCets && plan.Strategy is ParallelStrategySpec)
        {
            sink.Warning(
                Loc(plan, "product.internal_database"),
                "CETS nodes join every node that shares their internal_databases.cets.cluster_name and discovery "
                    + "backend: give the green nodes another cluster_name (or another discovery table or file), or "
                    + "they join the blue cluster; the run checks that both stay separate"
            );
        }

        if (plan.Product.UsesCets && plan.Product.Cli == MongooseCliDialect.Legacy)
        {
            sink.Error(
                Loc(plan, "product.cli"),
                $"'product.internal_database' is \"{plan.Product.InternalDatabase}\": CETS is read with the GraphQL "
                    + "words (cets systemInfo, MongooseIM 6.1+); set cli = \"auto\" or \"graphql\""
            );
        }

        // rel/files/mongooseimctl 6.0.0+ cuts "-f" out of every argument of the legacy cluster words; the GraphQL
        // words (used on 6.0+ unless cli = "legacy") and the scripts before 6.0 leave names alone.
        var legacyOn6 =
            plan.Product.Cli == MongooseCliDialect.Legacy
            && new[] { plan.Upgrade.TargetVersion, plan.Upgrade.FromVersion ?? plan.Upgrade.TargetVersion }.Any(v =>
                Versions.TryParse(v, out var parsed) && parsed >= new Versions.Version3(6, 0, 0)
            );
        foreach (var node in nodes.Where(n => legacyOn6 && n.ErlangNode.Contains("-f", StringComparison.Ordinal)))
        {
            sink.Error(
                At(node),
                $"Erlang node name '{node.ErlangNode}' contains '-f', which mongooseimctl 6.x cuts out of every "
                    + "argument of its legacy cluster words (cli = \"legacy\"); use cli = \"auto\" or \"graphql\", or "
                    + "rename the node"
            );
        }

        if (
            plan.Strategy is RollingStrategySpec
            && plan.Upgrade.FromVersion is { } from
            && Planning.MigrationCatalog.Blocking(
                Planning.MigrationCatalog.Between(from, plan.Upgrade.TargetVersion),
                plan.Product.InternalDatabase
            )
                is { Count: > 0 } blocking
        )
        {
            sink.Error(
                Loc(plan, "upgrade.from_version"),
                $"MongooseIM {from} -> {plan.Upgrade.TargetVersion} crosses "
                    + $"{string.Join(", ", blocking.Select(g => g.Hop))}, where upstream says a rolling upgrade is "
                    + $"not supported; instead: {Planning.MigrationCatalog.Instead(blocking)}"
            );
        }

        if (
            plan.Product.ConfigPath is { } path
            && path.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase)
            && Versions.TryParse(plan.Upgrade.TargetVersion, out var target)
            && target >= new Versions.Version3(4, 1, 0)
        )
        {
            sink.Error(
                Loc(plan, "product.config_path"),
                $"'product.config_path' is a .cfg file, which MongooseIM {plan.Upgrade.TargetVersion} cannot read "
                    + $"(.cfg support ended in 4.1.0); convert it to TOML first"
            );
        }
    }

    /// <summary>
    /// The config file of each node, its placeholders filled in, must be an absolute path that
    /// stays where it says: a var holding '../' must not move it (or its backup, written next to
    /// it) into another folder.
    /// </summary>
    private void CheckConfigPaths(Plan plan)
    {
        if (plan.Product.ConfigPath is null)
        {
            return;
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in plan.Nodes.Concat(plan.GreenNodes))
        {
            List<(string Key, string Path)> paths;
            try
            {
                // Paths derived from config_path (the usual companions, the default backup folder) are checked
                // through it; the ones the plan writes are checked themselves.
                paths =
                [
                    .. plan.ConfigFilesOf(node)
                        .Select((f, i) => (i == 0 ? "product.config_path" : "product.config_files", f.Path))
                        .Where((_, i) => i == 0 || plan.Product.ConfigFiles is not null),
                    .. plan.Upgrade.BackupDir is null
                        ? Array.Empty<(string, string)>()
                        : [("upgrade.backup_dir", plan.BackupRootOf(node)!)],
                ];
            }
            catch (InvalidOperationException)
            {
                // A var the node lacks; CheckNodeVariables names it.
                continue;
            }

            foreach (var (key, path) in paths)
            {
                var problem =
                    ValueRules.RemotePath(path)
                    ?? (
                        path.Split('/').Any(part => part is ".." or ".")
                            ? "must not hold '.' or '..' segments (check the vars it uses)"
                            : null
                    );
                if (problem is not null && reported.Add(key))
                {
                    sink.Error(Loc(plan, key), $"'{key}' for node {node.Name} is '{path}', which {problem}");
                }
            }

            var twice = paths
                .Where(p => p.Key != "upgrade.backup_dir")
                .GroupBy(p => Path.GetFileName(p.Path), StringComparer.Ordinal)
                .FirstOrDefault(g => g.Count() > 1);
            if (twice is not null && reported.Add("twice"))
            {
                sink.Error(
                    Loc(plan, "product.config_files"),
                    $"'product.config_path' and 'product.config_files' name more than one file called '{twice.Key}'; "
                        + "their backups would share a name: keep one"
                );
            }
        }
    }

    private void CheckUpgrade(Plan plan)
    {
        if (
            plan.Upgrade.Install is not null
            && plan.Upgrade.FromVersion is { } from
            && (
                string.Equals(from, plan.Upgrade.TargetVersion, StringComparison.OrdinalIgnoreCase)
                || Versions.TryParse(from, out var a)
                    && Versions.TryParse(plan.Upgrade.TargetVersion, out var b)
                    && a == b
                    && from.TrimStart('v', 'V').Length == plan.Upgrade.TargetVersion.TrimStart('v', 'V').Length
            )
        )
        {
            sink.Error(
                Loc(plan, "upgrade.target_version"),
                $"'upgrade.target_version' ({plan.Upgrade.TargetVersion}) is the version the nodes already run "
                    + $"('upgrade.from_version' {from}); there is nothing to install. For a config-only change use "
                    + "'upgrade.config_change'"
            );
        }

        if (
            plan.Strategy is RollingStrategySpec
            && plan.Upgrade.Install is null
            && plan.Upgrade.ConfigChange is null
            && !Written("upgrade.install")
            && !Written("upgrade.config_change")
        )
        {
            sink.Error(
                Loc(plan, "upgrade"),
                "the rolling strategy needs 'upgrade.install' (or 'upgrade.config_change' for a config-only change)"
            );
        }

        if (
            plan.Rollback == RollbackPolicy.Rollback
            && plan.Strategy is RollingStrategySpec
            && plan.Upgrade.RollbackInstall is null
            && plan.Upgrade.ConfigChange is null
        )
        {
            sink.Error(
                Loc(plan, "rollback.policy"),
                "'rollback.policy = \"rollback\"' with the rolling strategy needs 'upgrade.rollback_install', the "
                    + "command that reinstalls the previous version"
            );
        }

        if (
            plan.Upgrade.BackupConfig
            && plan.Product.ConfigPath is null
            && plan.Product.Kind != ProductKind.Generic
            && !Written("product.config_path")
        )
        {
            sink.Error(
                Loc(plan, "upgrade"),
                "'upgrade.backup_config' is on but 'product.config_path' is not set; set the config file's path or "
                    + "backup_config = false"
            );
        }
    }

    /// <summary>
    /// What is read over product.api_url or product.dist_address is taken for that node's own, so
    /// no two nodes may share one: a URL without {host} would answer for one node about all.
    /// </summary>
    private void CheckPerNodeAddresses(Plan plan, List<NodeSpec> nodes)
    {
        foreach (
            var (key, template) in new[]
            {
                ("product.api_url", plan.Product.ApiUrl),
                ("product.dist_address", plan.Product.DistAddress),
            }
        )
        {
            if (
                template is null
                || nodes.Any(n =>
                    CommandTemplate
                        .Placeholder()
                        .Matches(template)
                        .Any(m =>
                            m.Groups[1].Value.StartsWith("var.", StringComparison.Ordinal)
                            && !n.Vars.ContainsKey(m.Groups[1].Value[4..])
                        )
                )
            )
            {
                continue;
            }

            var shared = nodes
                .GroupBy(
                    n => CommandTemplate.RenderText(template, CommandValues.BeforeRun(plan).For(n)),
                    StringComparer.OrdinalIgnoreCase
                )
                .FirstOrDefault(g => g.Count() > 1);
            if (shared is not null)
            {
                sink.Error(
                    Loc(plan, key),
                    $"'{key}' is '{shared.Key}' for nodes {string.Join(", ", shared.Select(n => $"'{n.Name}'"))}; "
                        + $"each node must be reached at its own, so put {{host}} (or a per-node {{var.NAME}}) in it"
                );
            }
        }
    }

    /// <summary>Every {var.NAME} a command or the config path uses must be defined by every node it runs on.</summary>
    private void CheckNodeVariables(Plan plan, List<NodeSpec> nodes)
    {
        var texts = new List<(string Where, IEnumerable<string> Parts)>
        {
            ("product.config_path", plan.Product.ConfigPath is { } p ? [p] : []),
            ("product.ctl", plan.Product.Ctl.Parts),
            ("product.api_url", plan.Product.ApiUrl is { } api ? [api] : []),
            ("product.dist_address", plan.Product.DistAddress is { } dist ? [dist] : []),
            ("product.start", plan.Product.Start?.Parts ?? []),
            ("product.stop", plan.Product.Stop?.Parts ?? []),
            ("upgrade.install", plan.Upgrade.Install?.Parts ?? []),
            ("upgrade.rollback_install", plan.Upgrade.RollbackInstall?.Parts ?? []),
            ("upgrade.config_change", plan.Upgrade.ConfigChange?.Parts ?? []),
        };
        texts.AddRange(
            plan.Product.Operations.Select(o =>
                ($"product.commands.{o.Key}", (IEnumerable<string>)o.Value.Command.Parts)
            )
        );
        texts.AddRange(
            plan.Gates.Where(g => g.Command is not null)
                .Select(g => ($"gates.{g.Name}", (IEnumerable<string>)g.Command!.Parts))
        );
        if (plan.Strategy is ParallelStrategySpec parallel)
        {
            texts.AddRange(
                parallel.Provision.Select((c, i) => ($"strategy.provision[{i + 1}]", (IEnumerable<string>)c.Parts))
            );
            texts.Add(("strategy.start", parallel.Start?.Parts ?? []));
        }

        foreach (var (where, parts) in texts)
        {
            var names = parts
                .SelectMany(p => CommandTemplate.Placeholder().Matches(p).Select(m => m.Groups[1].Value))
                .Where(n => n.StartsWith("var.", StringComparison.Ordinal))
                .Select(n => n[4..])
                .Distinct();
            foreach (var name in names)
            {
                foreach (var node in nodes.Where(n => !n.Vars.ContainsKey(name)))
                {
                    sink.Error(
                        Loc(plan, where.StartsWith("gates.", StringComparison.Ordinal) ? "gates" : where),
                        $"'{where}' uses {{var.{name}}} but node '{node.Name}' has no vars.{name}; add it to the "
                            + $"node's vars table"
                    );
                }
            }
        }
    }

    private void CheckGates(Plan plan)
    {
        foreach (
            var gate in plan.Gates.Where(g => g.Kind == GateKinds.LoadBalancerErrors && plan.LoadBalancers.Count == 0)
        )
        {
            sink.Error(
                Loc(plan, "gates"),
                $"gate '{gate.Name}' reads load balancer error counters but the plan has no load balancer"
            );
        }
    }

    private void CheckRolling(Plan plan, RollingStrategySpec rolling)
    {
        var count = Math.Max(plan.Nodes.Count, declaredNodes);
        if (rolling.CapacityNodes >= count)
        {
            sink.Error(
                Loc(plan, "strategy.capacity_nodes"),
                $"'strategy.capacity_nodes' is {rolling.CapacityNodes} but the cluster has {count} node(s); a "
                    + $"rolling upgrade needs at least capacity_nodes + 1 nodes (MongooseIM: the nodes able to handle "
                    + $"the traffic plus one)"
            );
        }
        else if (rolling.BatchSize > count - rolling.CapacityNodes)
        {
            sink.Error(
                Loc(plan, "strategy.batch_size"),
                $"'strategy.batch_size' is {rolling.BatchSize}: with {count} nodes and capacity_nodes = "
                    + $"{rolling.CapacityNodes} it would leave {count - rolling.BatchSize} serving; the largest batch "
                    + $"is {count - rolling.CapacityNodes}"
            );
        }

        var batches = (count + rolling.BatchSize - 1) / Math.Max(1, rolling.BatchSize);
        if (rolling.WaitForPromoteAfter is { } canary && canary >= batches)
        {
            sink.Error(
                Loc(plan, "strategy.wait_for_promote_after"),
                $"'strategy.wait_for_promote_after' is {canary} but the run has {batches} batch(es); the canary "
                    + $"hold must come before the last batch (at most {batches - 1})"
            );
        }

        var names = plan.Nodes.Select(n => n.Name).ToList();
        foreach (var name in rolling.Order.Where(o => !names.Contains(o)))
        {
            sink.Error(
                Loc(plan, "strategy.order"),
                $"'strategy.order' names '{name}', which is not a node{Suggestions.DidYouMean(name, names)}"
            );
        }

        if (
            rolling.Order.Count > 0
            && rolling.Order.All(names.Contains)
            && (rolling.Order.Distinct().Count() != rolling.Order.Count || names.Any(n => !rolling.Order.Contains(n)))
        )
        {
            sink.Error(Loc(plan, "strategy.order"), "'strategy.order' must name every node exactly once");
        }
    }

    private void CheckParallel(Plan plan, ParallelStrategySpec parallel)
    {
        if (parallel.GreenNodes.Count == 0)
        {
            sink.Error(
                Loc(plan, "strategy"),
                "the parallel strategy needs at least one [[strategy.green_nodes]] entry"
            );
        }

        if (parallel.Provision.Count == 0 && parallel.Start is null)
        {
            sink.Error(
                Loc(plan, "strategy"),
                "the parallel strategy needs 'strategy.provision' or 'strategy.start' to bring the new cluster up"
            );
        }

        var gateNames = plan.Gates.Select(g => g.Name).ToList();
        foreach (var name in parallel.StepGates.Where(g => !gateNames.Contains(g)))
        {
            sink.Error(
                Loc(plan, "strategy.step_gates"),
                $"'strategy.step_gates' names gate '{name}', which is not declared"
                    + $"{Suggestions.DidYouMean(name, gateNames)}"
            );
        }

        if (plan.LoadBalancers.Count == 0)
        {
            sink.Error(
                Loc(plan, "strategy"),
                "the parallel strategy moves traffic through a load balancer; declare at least one [[load_balancers]]"
            );
        }

        for (var i = 0; i < plan.LoadBalancers.Count; i++)
        {
            if (plan.LoadBalancers[i].Settings is not AwsElbV2Settings aws)
            {
                continue;
            }

            var where = $"load_balancers[{i + 1}]";
            if (aws.ListenerArn is null && aws.RuleArn is null)
            {
                sink.Error(
                    Loc(plan, where),
                    $"'{where}' (aws-elbv2) moves traffic by rewriting a forward action; set listener_arn (its "
                        + $"default action) or rule_arn"
                );
            }

            if (aws.GreenTargetGroups.Count == 0)
            {
                sink.Error(
                    Loc(plan, where),
                    $"'{where}' (aws-elbv2) needs green_target_groups: the new cluster's target groups, which "
                        + $"cutover weights against target_groups"
                );
            }
        }
    }

    /// <summary>ARNs name their region: every ARN of an aws-elbv2 entry must be in the entry's region.</summary>
    private void CheckAwsRegions(Plan plan)
    {
        for (var i = 0; i < plan.LoadBalancers.Count; i++)
        {
            if (plan.LoadBalancers[i].Settings is not AwsElbV2Settings { Region: { } region } aws)
            {
                continue;
            }

            var arns = new[] { ("listener_arn", aws.ListenerArn), ("rule_arn", aws.RuleArn) }
                .Concat(aws.TargetGroups.Select(g => ("target_groups", (string?)g)))
                .Concat(aws.GreenTargetGroups.Select(g => ("green_target_groups", (string?)g)))
                .Where(a =>
                    a.Item2 is { } arn && arn.StartsWith("arn:", StringComparison.Ordinal) && arn.Split(':').Length > 3
                );
            foreach (var (key, arn) in arns)
            {
                var arnRegion = arn!.Split(':')[3];
                if (arnRegion != region)
                {
                    sink.Error(
                        Loc(plan, $"load_balancers[{i + 1}].{key}"),
                        $"'load_balancers[{i + 1}].{key}' names {arn}, which is in {arnRegion}, not in region '"
                            + $"{region}'; ELBv2 calls go to one region"
                    );
                }
            }
        }
    }

    /// <summary>The key is in the file (perhaps with a value already reported as wrong).</summary>
    private bool Written(string path) => sink.Locations.ContainsKey(path);

    private SourceLocation Loc(Plan plan, string path) => sink.Where(path, new SourceLocation(plan.SourcePath, 1, 1));

    private SourceLocation At(NodeSpec node) => nodeLocations.TryGetValue(node, out var l) ? l : default;
}
