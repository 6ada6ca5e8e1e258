using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// MongooseIM 6.2+ with CETS as its internal database (mnesia not started), or with both: membership comes from
/// <c>cets systemInfo</c>, checked against mnesia's where both run; a split CETS cluster is an error.
/// </summary>
public sealed class MongooseImCetsTests : IDisposable
{
    private readonly MongooseImNode _mim = new("mongooseim@mim-2", "6.2.1");

    public void Dispose() => _mim.Dispose();

    private IProduct Product(string internalDatabase)
    {
        var text = $$"""
            [cluster]
            name = "mim"

            [[nodes]]
            name = "mim-1"
            host = "127.0.0.11"
            erlang_node = "mongooseim@mim-1"

            [[nodes]]
            name = "mim-2"
            host = "127.0.0.12"
            erlang_node = "mongooseim@mim-2"

            [access]
            kind = "local"
            sudo = true

            [product]
            kind = "mongooseim"
            internal_database = "{{internalDatabase}}"
            ctl = ["{{_mim.Ctl}}"]

            [upgrade]
            target_version = "6.3.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var loaded = PlanLoader.Load(text, "mim.toml");
        loaded.Plan.ShouldNotBeNull(string.Join("; ", loaded.Diagnostics));
        return ProductFactory.Create(loaded.Plan, new ShellFactory(loaded.Plan));
    }

    private Plans.Model.NodeSpec Node =>
        new("mim-2", "127.0.0.12", "mongooseim@mim-2", new Dictionary<string, string>());

    [Fact(Timeout = 60_000)]
    public async Task A_Cets_only_node_reports_its_joined_and_missing_nodes()
    {
        _mim.Databases("cets");
        _mim.Members(
            all: ["mongooseim@mim-1", "mongooseim@mim-2", "mongooseim@mim-3"],
            running: ["mongooseim@mim-1", "mongooseim@mim-2"]
        );

        var membership = await Product("cets").MembershipAsync(Node, CancellationToken.None);

        membership.Running.Order().ShouldBe(["mongooseim@mim-1", "mongooseim@mim-2"]);
        membership.Stopped.ShouldBe(["mongooseim@mim-3"]);
        _mim.Calls.ShouldContain("[cets][systemInfo]");
        _mim.Calls.ShouldNotContain(c => c.StartsWith("[mnesia]", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Asking_mnesia_on_a_Cets_only_node_is_refused_by_the_node_and_said_so()
    {
        _mim.Databases("cets");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            Product("mnesia").MembershipAsync(Node, CancellationToken.None)
        );

        error.Message.ShouldContain("Some of the required internal databases are not loaded (deps_not_loaded)");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_split_Cets_cluster_is_an_error_naming_the_conflict()
    {
        _mim.Databases("cets");
        _mim.CetsConflicts("mongooseim@mim-1");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            Product("cets").MembershipAsync(Node, CancellationToken.None)
        );

        error.Message.ShouldContain("replicate to a different list of nodes on [mongooseim@mim-1]");
    }

    [Fact(Timeout = 60_000)]
    public async Task With_mnesia_and_Cets_both_must_agree()
    {
        _mim.Databases("mnesia", "cets");
        _mim.Members(["mongooseim@mim-1", "mongooseim@mim-2"], ["mongooseim@mim-1", "mongooseim@mim-2"]);

        var both = await Product("mnesia+cets").MembershipAsync(Node, CancellationToken.None);

        both.Running.Order().ShouldBe(["mongooseim@mim-1", "mongooseim@mim-2"]);
        _mim.Calls.ShouldContain("[cets][systemInfo]");
        _mim.Calls.ShouldContain("[mnesia][systemInfo]");
    }
}
