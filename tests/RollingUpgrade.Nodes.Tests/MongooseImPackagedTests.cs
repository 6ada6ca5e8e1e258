using RollingUpgrade.Demo;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// MongooseIM as the .deb installs it: mongooseimctl run through sudo re-executes itself as its runner user and
/// re-parses every argument through a shell (the emulator in tests/RollingUpgrade.Testing/MongooseIm reproduces
/// upstream's script, version by version). Every argument the product sends must arrive as sent.
/// </summary>
public sealed class MongooseImPackagedTests : IDisposable
{
    private readonly List<MongooseImNode> _nodes = [];

    public void Dispose() => _nodes.ForEach(n => n.Dispose());

    private MongooseImNode Node(string erlang, string version, string? runner = "mongooseim")
    {
        var node = new MongooseImNode(erlang, version, runner);
        _nodes.Add(node);
        return node;
    }

    private static (IProduct Product, Plans.Model.NodeSpec Node, Plans.Model.NodeSpec Seed) Build(
        MongooseImNode mim,
        string access = "sudo = true",
        string? runAs = null,
        string host = "mim",
        string cli = "auto",
        string target = "6.3.0",
        string api = ""
    )
    {
        var text = $$"""
            [cluster]
            name = "mim"

            [[nodes]]
            name = "mim-1"
            host = "127.0.0.11"
            erlang_node = "mongooseim@{{host}}-1"

            [[nodes]]
            name = "mim-2"
            host = "127.0.0.12"
            erlang_node = "mongooseim@{{host}}-2"

            [access]
            kind = "local"
            {{access}}

            [product]
            kind = "mongooseim"
            cli = "{{cli}}"
            ctl = ["{{mim.Ctl}}"]
            start_timeout = "20s"
            {{(runAs is null ? string.Empty : $"run_as = \"{runAs}\"")}}
            {{api}}

            [upgrade]
            target_version = "{{target}}"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var loaded = PlanLoader.Load(text, "mim.toml");
        loaded.Plan.ShouldNotBeNull(string.Join("; ", loaded.Diagnostics));
        var plan = loaded.Plan;
        return (ProductFactory.Create(plan, new ShellFactory(plan)), plan.Nodes[1], plan.Nodes[0]);
    }

    private static async Task<CommandResult> SudoAsync(MongooseImNode mim, params string[] arguments) =>
        await new LocalShell().RunAsync(
            [mim.Ctl, .. arguments],
            new CommandOptions(TimeSpan.FromSeconds(20), Sudo: true),
            CancellationToken.None
        );

    [Fact(Timeout = 60_000)]
    public async Task The_emulator_garbles_quoted_arguments_as_the_packaged_script_does()
    {
        // What the tool sent before: both fail exactly as reported from a .deb install under sudo.
        var mim = Node("mongooseim@mim-2", "6.2.1");

        var keys = await SudoAsync(mim, "mnesia", "systemInfo", "--keys", "[\"running_db_nodes\",\"db_nodes\"]");
        var reason = await SudoAsync(
            mim,
            "session",
            "kickUserSession",
            "--user",
            "a@localhost/phone",
            "--reason",
            "This server is being upgraded; please reconnect."
        );

        keys.ExitCode.ShouldBe(1);
        keys.StandardOutput.ShouldContain(
            "Invalid value '[running_db_nodes,db_nodes]' of argument 'keys' for command 'systemInfo'"
        );
        reason.ExitCode.ShouldBe(127);
        reason.StandardError.ShouldContain("please: command not found");
        mim.Calls[^1]
            .ShouldBe(
                "[session][kickUserSession][--user][a@localhost/phone][--reason][This][server][is][being][upgraded]"
            );
    }

    [Fact(Timeout = 60_000)]
    public async Task Under_sudo_every_argument_the_product_sends_arrives_as_sent()
    {
        var mim = Node("mongooseim@mim-2", "6.2.1");
        mim.Members(["mongooseim@mim-1", "mongooseim@mim-2"], ["mongooseim@mim-1", "mongooseim@mim-2"]);
        mim.Sessions(
            ("alice@localhost/phone", "mongooseim@mim-2"),
            ("bob@localhost/Psi+ laptop", "mongooseim@mim-2"),
            ("carol@localhost/web", "mongooseim@mim-1")
        );
        var (product, node, seed) = Build(mim);

        var membership = await product.MembershipAsync(node, CancellationToken.None);
        var count = await product.SessionCountAsync(node, CancellationToken.None);
        var ended = await product.EvictSessionsAsync(node, 10, CancellationToken.None);

        membership.Running.ShouldBe(["mongooseim@mim-1", "mongooseim@mim-2"]);
        count.ShouldBe(2);
        // bob's resource holds a space: it cannot pass the re-parse, so the load balancers evict that session.
        ended.ShouldBe(1);
        mim.Kicks.ShouldBe([("alice@localhost/phone", "server-upgrade:please-reconnect")]);
        mim.Calls.ShouldContain("[mnesia][systemInfo]");
        mim.Calls.ShouldAllBe(c => !c.Contains("[This]"));
    }

    [Fact(Timeout = 60_000)]
    public async Task With_the_graphql_api_sessions_are_counted_listed_and_kicked_over_http_whatever_they_hold()
    {
        // Under sudo the control command re-parses its arguments: bob's JID (a space in its resource) cannot pass it,
        // and every call is a VM on the node. Over the admin GraphQL API both are kicked, with the plain reason.
        var mim = Node("mongooseim@mim-2", "6.2.1");
        mim.Sessions(
            ("alice@localhost/phone", "mongooseim@mim-2"),
            ("bob@localhost/Psi+ laptop", "mongooseim@mim-2"),
            ("carol@localhost/web", "mongooseim@mim-1")
        );
        var port = LoopbackPorts.Free("127.0.0.12");
        using var api = await mim.StartGraphQlApiAsync("127.0.0.12", port, "admin:s3cret-api");
        Environment.SetEnvironmentVariable("RU_TEST_MIM_API_PASSWORD", "s3cret-api");
        var (product, node, _) = Build(
            mim,
            api: $$"""
            api_url = "http://{host}:{{port}}/api/graphql"
            api_user = "admin"
            api_password_env = "RU_TEST_MIM_API_PASSWORD"
            """
        );

        var count = await product.SessionCountAsync(node, CancellationToken.None);
        var ended = await product.EvictSessionsAsync(node, 10, CancellationToken.None);

        count.ShouldBe(2);
        ended.ShouldBe(2);
        mim.Kicks.ShouldBe(
            [
                ("alice@localhost/phone", "This server is being upgraded; please reconnect."),
                ("bob@localhost/Psi+ laptop", "This server is being upgraded; please reconnect."),
            ],
            ignoreOrder: true
        );
        mim.Calls.ShouldNotContain(c => c.Contains("[session]", StringComparison.Ordinal));
        mim.Calls.ShouldNotContain(c => c.Contains("[stat]", StringComparison.Ordinal));
        mim.ApiCalls.Count.ShouldBe(4); // globalStats, listSessions, two kicks
        (await product.SessionCountAsync(node, CancellationToken.None)).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_graphql_api_that_is_not_there_leaves_eviction_to_the_control_command()
    {
        var mim = Node("mongooseim@mim-2", "6.2.1", runner: "nobody");
        mim.Sessions(("alice@localhost/phone", "mongooseim@mim-2"));
        var port = LoopbackPorts.Free("127.0.0.12"); // nothing listens there
        var (product, node, _) = Build(
            mim,
            access: "sudo = false",
            runAs: "nobody",
            api: $"api_url = \"http://{{host}}:{port}/api/graphql\""
        );

        var ended = await product.EvictSessionsAsync(node, 10, CancellationToken.None);

        ended.ShouldBe(1);
        mim.Kicks.ShouldBe([("alice@localhost/phone", "This server is being upgraded; please reconnect.")]);
        mim.Calls.ShouldContain(c => c.StartsWith("[session][kickUserSession]", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_graphql_api_refusing_the_credentials_says_which_settings_to_fix()
    {
        var mim = Node("mongooseim@mim-2", "6.2.1");
        mim.Sessions(("alice@localhost/phone", "mongooseim@mim-2"));
        var port = LoopbackPorts.Free("127.0.0.12");
        using var api = await mim.StartGraphQlApiAsync("127.0.0.12", port, "admin:right");
        Environment.SetEnvironmentVariable("RU_TEST_MIM_API_WRONG", "wrong");
        var (product, node, _) = Build(
            mim,
            api: $$"""
            api_url = "http://{host}:{{port}}/api/graphql"
            api_user = "admin"
            api_password_env = "RU_TEST_MIM_API_WRONG"
            """
        );

        var error = await Should.ThrowAsync<Exception>(() =>
            product.EvictSessionsAsync(node, 10, CancellationToken.None)
        );

        error.Message.ShouldContain("refused 'session listSessions' (401)");
        error.Message.ShouldContain("product.api_user and product.api_password_env");
        error.Message.ShouldNotContain("wrong");
        mim.Kicks.ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task With_run_as_the_runner_user_arguments_arrive_as_sent_whatever_they_hold()
    {
        // "nobody" stands in for the package's runner user: the script then runs as that user and does not re-exec.
        var mim = Node("mongooseim@mim-2", "6.2.1", runner: "nobody");
        mim.Sessions(("alice@localhost/phone", "mongooseim@mim-2"), ("bob@localhost/Psi+ laptop", "mongooseim@mim-2"));
        var (product, node, _) = Build(mim, access: "sudo = false", runAs: "nobody");

        var ended = await product.EvictSessionsAsync(node, 10, CancellationToken.None);

        ended.ShouldBe(2);
        mim.Kicks.ShouldBe(
            [
                ("alice@localhost/phone", "This server is being upgraded; please reconnect."),
                ("bob@localhost/Psi+ laptop", "This server is being upgraded; please reconnect."),
            ],
            ignoreOrder: true // kicked at once
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_join_the_cluster_refuses_says_the_graphql_message_and_code()
    {
        var mim = Node("mongooseim@mim-2", "6.2.1");
        mim.Unreachable("mongooseim@mim-1");
        var (product, node, seed) = Build(mim);

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.JoinClusterAsync(node, seed, CancellationToken.None)
        );

        error.Message.ShouldContain("Timeout while attempting to connect to node mongooseim@mim-1 (pang)");
        error.Message.ShouldNotEndWith(": {");
    }

    [Fact(Timeout = 60_000)]
    public async Task Joining_under_sudo_works_in_both_dialects()
    {
        foreach (var version in new[] { "5.1.0", "6.2.1" })
        {
            var mim = Node("mongooseim@mim-2", version);
            var (product, node, seed) = Build(mim);

            await product.JoinClusterAsync(node, seed, CancellationToken.None);

            (await product.MembershipAsync(node, CancellationToken.None)).Running.ShouldBe(
                ["mongooseim@mim-1", "mongooseim@mim-2"],
                version
            );
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("3.7.1")]
    [InlineData("4.2.0")]
    [InlineData("5.1.0")]
    [InlineData("6.1.0")]
    [InlineData("6.3.0")]
    [InlineData("6.8.0")]
    public async Task Every_version_tells_which_mnesia_tables_the_node_holds(string version)
    {
        var mim = Node("mongooseim@mim-2", version);
        // Long enough that mnesia:info() wraps the disc_copies list over lines.
        mim.Write(
            "local_tables",
            "schema disc_copies\npasswd disc_copies\nsession ram_copies\nmod_muc_light_rooms_with_a_long_name "
                + "disc_copies\nmod_muc_light_users_with_a_long_name disc_copies\n"
        );
        var (product, node, _) = Build(mim, target: version);

        var membership = await product.MembershipAsync(node, CancellationToken.None);

        membership.LocalTables.ShouldBe(
            ["passwd", "session", "mod_muc_light_rooms_with_a_long_name", "mod_muc_light_users_with_a_long_name"],
            ignoreOrder: true,
            version
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_that_says_stopping_is_not_stopped_until_it_is_down()
    {
        var mim = Node("mongooseim@mim-2", "6.3.0");
        mim.Write("stop_polls", "3");
        var (product, node, _) = Build(mim);

        await product.StopAsync(node, CancellationToken.None);

        (await product.StatusAsync(node, CancellationToken.None)).State.ShouldBe(NodeRunState.Stopped);
        mim.Calls.Count(c => c == "[status]").ShouldBeGreaterThanOrEqualTo(4);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("5.1.0")]
    [InlineData("6.2.1")]
    public async Task A_node_name_holding_dash_f_joins_where_upstream_leaves_it_alone(string version)
    {
        // Before 6.0 the script drops only an argument that is exactly -f; from 6.0 the GraphQL words are used.
        var mim = Node("mongooseim@mim-fra-2", version);
        var (product, node, seed) = Build(mim, host: "mim-fra");

        await product.JoinClusterAsync(node, seed, CancellationToken.None);

        (await product.MembershipAsync(node, CancellationToken.None)).Running.ShouldBe([
            "mongooseim@mim-fra-1",
            "mongooseim@mim-fra-2",
        ]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_legacy_words_on_6_x_are_refused_for_a_name_the_script_would_mangle()
    {
        // validate refuses cli = "legacy" with such names for a 6.x target; at run time the node's own version counts.
        var mim = Node("mongooseim@mim-fra-2", "6.2.1");
        var (product, node, seed) = Build(mim, host: "mim-fra", cli: "legacy", target: "5.1.0");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.JoinClusterAsync(node, seed, CancellationToken.None)
        );

        error.Message.ShouldContain("contains '-f'");
        mim.Calls.ShouldNotContain(c => c.StartsWith("[join_cluster]", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_without_mod_admin_extra_cannot_count_and_says_so()
    {
        var mim = Node("mongooseim@mim-2", "5.1.0");
        mim.Write("admin_extra", "missing");
        var (product, node, _) = Build(mim);

        (await product.SessionCountAsync(node, CancellationToken.None)).ShouldBeNull();
    }
}
