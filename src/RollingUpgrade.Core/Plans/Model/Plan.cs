namespace RollingUpgrade.Plans.Model;

/// <summary>A validated plan: what to upgrade and how. Immutable; run-time state lives elsewhere.</summary>
public sealed record Plan
{
    public required string SourcePath { get; init; }

    /// <summary>SHA-256 of the plan text; a run can only be resumed with the plan it started with.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The plan file's text, recorded with each run for the audit trail.</summary>
    public string SourceText { get; init; } = string.Empty;

    public required ClusterSpec Cluster { get; init; }

    public required IReadOnlyList<NodeSpec> Nodes { get; init; }

    public required AccessSpec Access { get; init; }

    public required ProductSpec Product { get; init; }

    public required IReadOnlyList<LoadBalancerSpec> LoadBalancers { get; init; }

    public required UpgradeSpec Upgrade { get; init; }

    public required StrategySpec Strategy { get; init; }

    public required IReadOnlyList<GateSpec> Gates { get; init; }

    public required RollbackPolicy Rollback { get; init; }

    /// <summary>Where runs live: the state folder (default) or a shared PostgreSQL database.</summary>
    public StateSpec State { get; init; } = StateSpec.Default;

    /// <summary>Webhooks told of the run's milestones (<c>[[notify]]</c>).</summary>
    public IReadOnlyList<NotifySpec> Notify { get; init; } = [];

    /// <summary>
    /// Where each key was written ("nodes[2].lb_ids.edge" -> line and column), for checks made after loading.
    /// </summary>
    public IReadOnlyDictionary<string, Toml.SourceLocation> Locations { get; init; } =
        new Dictionary<string, Toml.SourceLocation>();

    /// <summary>The place of a key, or of the nearest enclosing table, for a message about it.</summary>
    public Toml.SourceLocation LocationOf(string path)
    {
        while (true)
        {
            if (Locations.TryGetValue(path, out var location))
            {
                return location;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            if (cut <= 0)
            {
                return new Toml.SourceLocation(SourcePath, 1, 1);
            }

            path = path[..cut];
        }
    }

    /// <summary>The dotted path of a node's table: "nodes[2]" or "strategy.green_nodes[1]".</summary>
    public string PathOf(NodeSpec node)
    {
        var blue = Nodes.ToList().IndexOf(node);
        return blue >= 0 ? $"nodes[{blue + 1}]" : $"strategy.green_nodes[{GreenNodes.ToList().IndexOf(node) + 1}]";
    }

    /// <summary>
    /// The node's config file: product.config_path with node placeholders ({var.NAME}, {node}, ...) filled in.
    /// </summary>
    public string? ConfigPathOf(NodeSpec node) => Product.ConfigPath is { } path ? WithNodeValues(path, node) : null;

    /// <summary>
    /// Every file the node reads at start, config_path first, each with whether it must exist: config_path and
    /// product.config_files must; the product's usual companions are taken where they exist.
    /// </summary>
    public IReadOnlyList<(string Path, bool Required)> ConfigFilesOf(NodeSpec node)
    {
        if (ConfigPathOf(node) is not { } config)
        {
            return [];
        }

        if (Product.ConfigFiles is { } listed)
        {
            return [(config, true), .. listed.Select(f => (WithNodeValues(f, node), true))];
        }

        var folder = System.IO.Path.GetDirectoryName(config) ?? "/";
        string[] usual = Product.Kind switch
        {
            ProductKind.MongooseIm => ["vm.args", "vm.dist.args", "app.config"],
            ProductKind.Ejabberd => ["ejabberdctl.cfg", "inetrc"],
            _ => [],
        };
        return
        [
            (config, true),
            .. usual
                .Where(u => u != System.IO.Path.GetFileName(config))
                .Select(u => (System.IO.Path.Combine(folder, u), false)),
        ];
    }

    /// <summary>Where this node's run folders of config backups live.</summary>
    public string? BackupRootOf(NodeSpec node) =>
        Upgrade.BackupDir is { } dir ? WithNodeValues(dir, node)
        : ConfigPathOf(node) is { } config
            ? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(config) ?? "/", "rollingupgrade-backups")
        : null;

    private string WithNodeValues(string path, NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var values = new Dictionary<string, string>(
            node.Vars.ToDictionary(kv => "var." + kv.Key, kv => kv.Value),
            StringComparer.Ordinal
        )
        {
            ["node"] = node.Name,
            ["host"] = node.Host,
            ["erlang_node"] = node.ErlangNode,
            ["cluster"] = Cluster.Name,
        };
        return CommandTemplate
            .Placeholder()
            .Replace(path, m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
    }

    /// <summary>What exact membership compares, in step texts: running db nodes, or joined CETS nodes.</summary>
    public string MembershipName => Product.UsesMnesia ? "running db nodes" : "joined CETS nodes";

    public NodeSpec Node(string name) => Nodes.Concat(GreenNodes).First(n => n.Name == name);

    public IReadOnlyList<NodeSpec> GreenNodes => Strategy is ParallelStrategySpec p ? p.GreenNodes : [];
}
