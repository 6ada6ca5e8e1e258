namespace RollingUpgrade.Plans.Model;

/// <summary>What runs on the nodes and how to ask it things.</summary>
public sealed record ProductSpec
{
    public required ProductKind Kind { get; init; }

    public MongooseCliDialect Cli { get; init; } = MongooseCliDialect.Auto;

    /// <summary>
    /// The control command (mongooseimctl, ejabberdctl) as an argument vector prefix; may use node placeholders.
    /// </summary>
    public CommandTemplate Ctl { get; init; } = new(["mongooseimctl"], IsScript: false);

    /// <summary>
    /// MongooseIM and ejabberd: the user the control command runs as (<c>sudo -n -u USER -- ctl ...</c>), the
    /// package's runner user (<c>mongooseim</c> for the .deb). mongooseimctl run as another user re-executes
    /// itself as its runner user through <c>runuser -c "$0 $*"</c>, which re-parses every argument through a shell;
    /// run as that user directly, arguments arrive as sent. Without it, the tool sends only arguments that survive
    /// the re-parse.
    /// </summary>
    public string? RunAs { get; init; }

    /// <summary>Starts the node instead of "ctl start" (for example "systemctl start mongooseim").</summary>
    public CommandTemplate? Start { get; init; }

    /// <summary>Stops the node instead of "ctl stop".</summary>
    public CommandTemplate? Stop { get; init; }

    public string? ConfigPath { get; init; }

    /// <summary>
    /// The other files the node reads at start, backed up and compared with config_path (node placeholders allowed).
    /// Null: the product's usual ones next to config_path, where they exist (MongooseIM: vm.args, vm.dist.args,
    /// app.config; ejabberd: ejabberdctl.cfg, inetrc).
    /// </summary>
    public IReadOnlyList<string>? ConfigFiles { get; init; }

    /// <summary>
    /// ejabberd's HTTP API (mod_http_api) per node, such as "http://{host}:5280/api". When set,
    /// status and version (the running application's), membership, session counts, eviction and
    /// the polls while waiting for a start or stop go over HTTP (about 1 ms a call instead of a
    /// control-command VM); the control command is the fallback whenever the API does not answer.
    /// MongooseIM's admin GraphQL endpoint per node, such as "http://{host}:5551/api/graphql": session counts and
    /// eviction go over it (so a drain can kick hundreds of sessions a second), the control command otherwise.
    /// </summary>
    public string? ApiUrl { get; init; }

    /// <summary>
    /// Basic-auth user for <see cref="ApiUrl"/> (ejabberd: an admin JID; MongooseIM: the GraphQL handler's admin user
    /// name); its password comes from <see cref="ApiPasswordEnv"/>.
    /// </summary>
    public string? ApiUser { get; init; }

    public string? ApiPasswordEnv { get; init; }

    /// <summary>
    /// MongooseIM and ejabberd: the node's Erlang distribution listener as host:port, such as
    /// "{host}:4370", for nodes whose distribution port is fixed (inet_dist_listen_min = max, or
    /// -erl_epmd_port). Once the port has been seen accepting while the node ran (the first status
    /// read of each running node checks it, and a refusal there is an error naming this setting), a
    /// refused connection tells that the node is down in about a millisecond, where the control
    /// command needs a VM of its own.
    /// </summary>
    public string? DistAddress { get; init; }

    /// <summary>For the generic product: one command per operation.</summary>
    public IReadOnlyDictionary<string, GenericOperation> Operations { get; init; } =
        new Dictionary<string, GenericOperation>();

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// MongooseIM's internal databases (the nodes' [internal_databases]): "mnesia" (default), "cets" (6.1+: mnesia
    /// is not started; membership is CETS's joined nodes) or "mnesia+cets" (both, and both must agree). CETS
    /// nodes of different versions do not connect across 6.2.0 -> 6.2.1.
    /// </summary>
    public string InternalDatabase { get; init; } = "mnesia";

    public bool UsesCets => InternalDatabase.Contains("cets", StringComparison.Ordinal);

    public bool UsesMnesia => InternalDatabase.Contains("mnesia", StringComparison.Ordinal);
}
