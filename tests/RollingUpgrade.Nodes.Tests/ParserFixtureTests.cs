using RollingUpgrade.Execution;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>
/// Every output sample from shared/reference/mongooseim-and-ejabberd.md, and captures from ejabberd 23.01.
/// </summary>
public sealed class ParserFixtureTests
{
    private static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [Theory]
    [InlineData("mim-status-3.4.txt", "3.4.0-7-gaec944c92")]
    [InlineData("mim-status-6.3.1.txt", "6.3.1")]
    public void MongooseIM_status_gives_the_running_version(string file, string version)
    {
        var status = MongooseStatusParser.Parse(0, Fixture(file));

        status.State.ShouldBe(NodeRunState.Running);
        status.Version.ShouldBe(version);
    }

    [Fact]
    public void MongooseIM_status_without_the_application_is_not_running() =>
        MongooseStatusParser.Parse(1, Fixture("mim-status-unavailable.txt")).State.ShouldBe(NodeRunState.Starting);

    [Fact]
    public void MongooseIM_status_that_is_not_a_status_is_refused() =>
        Should
            .Throw<UnexpectedAnswerException>(() => MongooseStatusParser.Parse(0, "Segmentation fault\n"))
            .Message.ShouldContain("Segmentation fault");

    [Fact]
    public void Mnesia_info_with_trailing_spaces_quoted_atoms_and_no_spaces_after_commas()
    {
        var membership = MnesiaInfoParser.ParseInfo(Fixture("mnesia-info-synthesized.txt"));

        membership.Running.ShouldBe(["mongooseim@node2", "mongooseim@node1"]);
        membership.Stopped.ShouldBe(["mongooseim@mim-3.example.com"]);
    }

    [Fact]
    public void Mnesia_info_captured_from_ejabberd_23_01()
    {
        var membership = MnesiaInfoParser.ParseInfo(Fixture("mnesia-info-ejabberd-23.01-captured.txt"));

        membership.Running.ShouldBe(["ejabberd2@127.0.0.12", "ejabberd1@127.0.0.11"]);
        membership.Stopped.ShouldBeEmpty();
        // ram_copies wraps over three lines; schema is everywhere and left out.
        membership.LocalTables.ShouldBe(
            [
                "bosh",
                "ejabberd_commands",
                "reg_users_counter",
                "route",
                "route_multicast",
                "s2s",
                "session",
                "session_counter",
                "temporarily_blocked",
                "oauth_client",
                "oauth_token",
                "passwd",
            ],
            ignoreOrder: true
        );
    }

    [Fact]
    public void Mnesia_info_lists_the_nodes_own_copies_of_every_storage_type_not_the_remote_ones()
    {
        // Captured from two OTP 25 nodes: only_here has its single copy on a-node; ram_only_b lives on b-node only.
        var membership = MnesiaInfoParser.ParseInfo(Fixture("mnesia-info-otp25-two-nodes-captured.txt"));

        membership.LocalTables.ShouldBe(
            [
                "session",
                "only_here",
                "shared_everywhere",
                "a_very_long_table_name_that_makes_the_list_wrap_around_eighty",
            ],
            ignoreOrder: true
        );
    }

    [Fact]
    public void Mnesia_info_without_the_storage_lines_cannot_tell_the_tables() =>
        MnesiaInfoParser.ParseInfo("running db nodes   = [a@h]\nstopped db nodes   = [] \n").LocalTables.ShouldBeNull();

    [Fact]
    public void A_storage_list_that_never_closes_is_refused() =>
        Should
            .Throw<UnexpectedAnswerException>(() =>
                MnesiaInfoParser.ParseInfo("running db nodes   = [a@h]\ndisc_copies        = [passwd,\n")
            )
            .Message.ShouldContain("no closing ']'");

    [Fact]
    public void Mnesia_info_without_the_running_line_is_refused() =>
        Should.Throw<UnexpectedAnswerException>(() => MnesiaInfoParser.ParseInfo("Unknown command 'info'\n"));

    [Fact]
    public void Mnesia_system_info_proplist_wrapped_over_lines()
    {
        var membership = MnesiaInfoParser.ParseSystemInfo(Fixture("ejabberd-mnesia_info-wrapped.txt"));

        membership.Running.ShouldBe(["ejabberd3@127.0.0.13", "ejabberd1@127.0.0.11"]);
        membership.Stopped.ShouldBe(["ejabberd2@127.0.0.12"]);
        membership.LocalTables.ShouldBeNull("this answer has no local_tables entry");
    }

    [Fact]
    public void Mnesia_system_info_proplist_with_local_tables_wrapped_over_lines()
    {
        var membership = MnesiaInfoParser.ParseSystemInfo(
            "[{db_nodes,[a@h,b@h]},\n {running_db_nodes,[a@h,b@h]},\n {local_tables,[passwd,session,\n"
                + "                schema,'odd-table']}]"
        );

        membership.LocalTables.ShouldBe(["passwd", "session", "odd-table"]);
    }

    [Theory]
    [InlineData("[]", new string[0])]
    [InlineData("[a@b]", new[] { "a@b" })]
    [InlineData("[mongooseim@node1, mongooseim@node2]", new[] { "mongooseim@node1", "mongooseim@node2" })]
    [InlineData("['x-1@h.example','y@h']", new[] { "x-1@h.example", "y@h" })]
    [InlineData("['it\\'s@h']", new[] { "it's@h" })]
    public void Erlang_atom_lists(string text, string[] atoms) => ErlangTerms.AtomList(text).ShouldBe(atoms);

    [Fact]
    public void GraphQL_system_info_with_running_only()
    {
        var membership = GraphQlCliResult.Membership(Fixture("mim-graphql-systeminfo.json"));

        membership.Running.ShouldBe(["mongooseim@mongooseim-2", "mongooseim@mongooseim-1"]);
        membership.Stopped.ShouldBeEmpty();
    }

    [Fact]
    public void GraphQL_system_info_of_every_key_carries_the_local_tables_without_schema()
    {
        // No --keys: mnesia_api:mnesia_info(null) answers system_info(all), lists of atoms as lists of strings.
        const string answer = """
            {
              "data" : {
                "mnesia" : {
                  "systemInfo" : [
                    { "result" : "yes", "key" : "is_running" },
                    { "result" : [ "mongooseim@mim-1", "mongooseim@mim-2" ], "key" : "db_nodes" },
                    { "result" : [ "schema", "passwd", "session" ], "key" : "local_tables" },
                    { "result" : [ "mongooseim@mim-1", "mongooseim@mim-2" ], "key" : "running_db_nodes" },
                    { "result" : 12, "key" : "transaction_commits" }
                  ]
                }
              }
            }
            """;

        GraphQlCliResult.Membership(answer).LocalTables.ShouldBe(["passwd", "session"]);
        GraphQlCliResult.Membership(Fixture("mim-graphql-systeminfo.json")).LocalTables.ShouldBeNull();
    }

    [Fact]
    public void GraphQL_system_info_computes_stopped_nodes_from_db_nodes()
    {
        var membership = GraphQlCliResult.Membership(Fixture("mim-graphql-systeminfo-both.json"));

        membership.Stopped.ShouldBe(["mongooseim@mongooseim-2"]);
        MembershipCheck
            .Compare(membership, ["mongooseim@mongooseim-1", "mongooseim@mongooseim-2"])
            .ShouldBe(
                "running db nodes are [mongooseim@mongooseim-1]: missing mongooseim@mongooseim-2; stopped "
                    + "mongooseim@mongooseim-2"
            );
    }

    [Fact]
    public void GraphQL_errors_carry_their_code() =>
        Should
            .Throw<UnexpectedAnswerException>(() =>
                GraphQlCliResult.Membership(Fixture("mim-graphql-deps-not-loaded.json"))
            )
            .Message.ShouldBe(
                "mnesia systemInfo: Some of the required services or modules are not loaded (deps_not_loaded)"
            );

    [Fact]
    public void GraphQL_global_stats_read_by_path_not_key_order() =>
        GraphQlCliResult
            .Data(Fixture("mim-graphql-globalstats.json"), "stat globalStats", "stat", "globalStats", "onlineUsersNode")
            .GetInt64()
            .ShouldBe(7);

    [Fact]
    public void GraphQL_already_joined_is_reported() =>
        Should
            .Throw<UnexpectedAnswerException>(() =>
                GraphQlCliResult.Data(
                    Fixture("mim-graphql-join-already.json"),
                    "server joinCluster",
                    "server",
                    "joinCluster"
                )
            )
            .Message.ShouldContain("(already_joined)");

    [Fact]
    public void Ejabberd_status_started_gives_the_package_version()
    {
        var status = EjabberdStatusParser.Parse(0, Fixture("ejabberd-status-started.txt"));

        status.State.ShouldBe(NodeRunState.Running);
        status.Version.ShouldBe("23.01-1");
        Versions.Matches(status.Version!, "23.01").ShouldBeTrue();
    }

    [Theory]
    [InlineData("ejabberd-status-starting.txt")]
    [InlineData("ejabberd-status-app-down.txt")]
    public void Ejabberd_status_while_mnesia_waits_or_the_app_is_down_is_not_running(string file) =>
        EjabberdStatusParser.Parse(1, Fixture(file)).State.ShouldBe(NodeRunState.Starting);

    [Fact]
    public void Membership_reports_missing_extra_and_stopped_nodes_by_name()
    {
        var problem = MembershipCheck.Compare(new Membership(["a@h", "x@h"], ["c@h"]), ["a@h", "b@h", "c@h"]);

        problem.ShouldBe("running db nodes are [a@h, x@h]: missing b@h, c@h; extra x@h; stopped c@h");
        MembershipCheck.Compare(new Membership(["b@h", "a@h"], []), ["a@h", "b@h"]).ShouldBeNull();
    }

    [Fact]
    public void Connected_users_info_from_ejabberdctl_gives_user_host_resource_and_node()
    {
        var sessions = EjabberdSessionParser.ParseCtl(
            "alice@localhost/scout\tc2s\t127.0.0.1\t34028\t0\tejabberd1@127.0.0.11\t2\tavailable\tscout\t\n"
                + "bob@example.org/phone/2\tc2s\t127.0.0.1\t34030\t5\t'ej-2@host.example'\t9\taway\tphone/2\tbusy\n"
        );

        sessions.ShouldBe([
            new EjabberdSession("alice", "localhost", "scout", "ejabberd1@127.0.0.11"),
            new EjabberdSession("bob", "example.org", "phone/2", "ej-2@host.example"),
        ]);
        EjabberdSessionParser.ParseCtl("\n").ShouldBeEmpty();
        Should.Throw<UnexpectedAnswerException>(() => EjabberdSessionParser.ParseCtl("Error: unknown command\n"));
    }

    [Fact]
    public void Connected_users_info_from_the_http_api_gives_the_same_records()
    {
        using var json = System.Text.Json.JsonDocument.Parse(
            """
            [{"jid":"alice@localhost/scout","connection":"c2s","ip":"127.0.0.1","port":34028,"priority":0,"node":"ejabberd1@127.0.0.11","uptime":2,"status":"available","resource":"scout","statustext":""}]
            """
        );

        json.RootElement.EnumerateArray()
            .Select(EjabberdSessionParser.FromJson)
            .ShouldBe([new EjabberdSession("alice", "localhost", "scout", "ejabberd1@127.0.0.11")]);
        using var garbage = System.Text.Json.JsonDocument.Parse("""{"jid":"alice@localhost/scout"}""");
        Should.Throw<UnexpectedAnswerException>(() => EjabberdSessionParser.FromJson(garbage.RootElement));
    }

    [Fact]
    public void Ejabberd_api_status_is_one_string_run_together()
    {
        var status = EjabberdStatusParser.ParseApi(
            "The node 'ejabberd1@127.0.0.11' is started. Status: startedejabberd 23.01-1 is running in that node"
        );

        (status.State, status.Version).ShouldBe((NodeRunState.Running, "23.01-1"));
        EjabberdStatusParser
            .ParseApi(
                "The node 'ejabberd1@127.0.0.11' is started. Status: startedejabberd is not running in that node."
            )
            .State.ShouldBe(NodeRunState.Starting);
        Should.Throw<UnexpectedAnswerException>(() => EjabberdStatusParser.ParseApi("<html>proxy error</html>"));
    }

    [Theory]
    [InlineData(
        "The node 'ejabberd1@127.0.0.11' is started. Status: startedejabberd 23.01-1 is running in that node",
        "ejabberd1@127.0.0.11"
    )]
    [InlineData(
        "The node ejabberd@localhost is started with status: started\nejabberd 23.01 is running in that node",
        "ejabberd@localhost"
    )]
    [InlineData("The node 'ej@xmpp-1.example.com' is started with status: started", "ej@xmpp-1.example.com")]
    [InlineData("ejabberd 23.01 is running in that node", null)]
    public void Ejabberd_status_names_the_node_it_speaks_for(string text, string? node) =>
        EjabberdStatusParser.NodeName(text).ShouldBe(node);

    [Theory]
    [InlineData("127.0.0.11", "http://127.0.0.11:5280/api")]
    [InlineData("xmpp-1.example.com", "http://xmpp-1.example.com:5280/api")]
    [InlineData("2001:db8::11", "http://[2001:db8::11]:5280/api")]
    public void Ejabberd_api_url_is_rendered_per_node(string host, string expected)
    {
        var text =
            $"[cluster]\nname = \"c\"\n\n[[nodes]]\nname = \"n1\"\nhost = \"{host}\"\nerlang_node = "
            + $"\"ej@h1\"\n\n[[nodes]]\nname = \"n2\"\nhost = \"10.0.0.2\"\nerlang_node = "
            + $"\"ej@h2\"\n\n[access]\nkind = \"local\"\n\n[product]\nkind = \"ejabberd\"\napi_url = "
            + $"\"http://{{host}}:5280/api/\"\n\n[upgrade]\ntarget_version = \"24.0\"\ninstall = "
            + $"\"true\"\nbackup_config = false\n\n[strategy]\nkind = \"rolling\"\ncapacity_nodes = 1\n";
        var plan =
            RollingUpgrade.Plans.PlanLoader.Load(text, "c.toml").Plan
            ?? throw new InvalidOperationException(
                string.Join("\n", RollingUpgrade.Plans.PlanLoader.Load(text, "c.toml").Diagnostics)
            );

        new EjabberdApi(plan).BaseUrl(plan.Nodes[0]).ShouldBe(expected);
    }

    [Theory]
    [InlineData("{\"data\":{\"stat\":{\"globalStats\":{\"onlineUsersNode\":\"seven\"}}}}")]
    [InlineData("{\"data\":{\"stat\":{\"globalStats\":{\"onlineUsersNode\":-1}}}}")]
    [InlineData("{\"data\":{\"stat\":{\"globalStats\":{}}}}")]
    public void A_GraphQL_count_that_is_not_a_count_is_refused(string output) =>
        Should.Throw<UnexpectedAnswerException>(() =>
            GraphQlCliResult.Count(output, "stat globalStats", "stat", "globalStats", "onlineUsersNode")
        );

    [Theory]
    [InlineData("{\"data\":{\"mnesia\":{\"systemInfo\":[{\"key\":\"running_db_nodes\",\"result\":\"a@b\"}]}}}")]
    [InlineData("{\"data\":{\"mnesia\":{\"systemInfo\":[{\"result\":[\"a@b\"]}]}}}")]
    [InlineData("{\"data\":{\"mnesia\":{\"systemInfo\":{\"key\":1}}}}")]
    public void A_GraphQL_membership_of_the_wrong_shape_is_refused(string output) =>
        Should.Throw<UnexpectedAnswerException>(() => GraphQlCliResult.Membership(output));
}
