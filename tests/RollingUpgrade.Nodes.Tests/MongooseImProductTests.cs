using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>
/// The MongooseIM product against a stand-in mongooseimctl (a shell script answering with the
/// reference's captured outputs and exit codes), through the real local shell.
/// </summary>
public sealed class MongooseImProductTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-mim-").FullName;

    public MongooseImProductTests()
    {
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var script = Path.Combine(_folder, "mongooseimctl");
        File.WriteAllText(
            script,
            $$"""
            #!/bin/sh
            echo "$*" >> {{_folder}}/calls
            case "$*" in
              status)
                if [ -f {{_folder}}/down ]; then cat {{fixtures}}/mim-nodedown.txt; exit 3; fi
                cat {{_folder}}/status.txt ;;
              "mnesia info") cat {{fixtures}}/mnesia-info-synthesized.txt ;;
              "mnesia systemInfo") cat {{fixtures}}/mim-graphql-systeminfo-both.json ;;
              "stats onlineusersnode") echo 4 ;;
              "stat globalStats") cat {{fixtures}}/mim-graphql-globalstats.json ;;
              "join_cluster -f mongooseim@node1") echo "You have successfully joined the node mongooseim@node2 to the cluster with node member mongooseim@node1"; echo ;;
              "server joinCluster --node mongooseim@node1") cat {{fixtures}}/mim-graphql-join-ok.json ;;
              "session listSessions") cat {{fixtures}}/mim-graphql-listsessions.json ;;
              "session kickUserSession --user "*" --reason server-upgrade:please-reconnect")
                cat {{fixtures}}/mim-graphql-kick.json ;;
              stop) touch {{_folder}}/down; echo ok ;;
              start) rm -f {{_folder}}/down ;;
              *) echo "Unknown command '$1'"; echo; echo "Commands to start a MongooseIM node:"; exit 2 ;;
            esac

            """
        );
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Script = script;
    }

    private string Script { get; }

    private IReadOnlyList<string> Calls => File.ReadAllLines(Path.Combine(_folder, "calls"));

    private (IProduct Product, NodeSpec Node, NodeSpec Seed) Build(
        string statusFixture,
        string cli = "auto",
        string? distAddress = null
    )
    {
        File.Copy(
            Path.Combine(AppContext.BaseDirectory, "Fixtures", statusFixture),
            Path.Combine(_folder, "status.txt"),
            overwrite: true
        );
        var text = $$"""
            [cluster]
            name = "mim"

            [[nodes]]
            name = "mim-1"
            host = "127.0.0.11"
            erlang_node = "mongooseim@node1"

            [[nodes]]
            name = "mim-2"
            host = "127.0.0.12"
            erlang_node = "mongooseim@node2"

            [access]
            kind = "local"

            [product]
            kind = "mongooseim"
            cli = "{{cli}}"
            ctl = ["{{Script}}"]
            start_timeout = "10s"
            {{(distAddress is null ? string.Empty : $"dist_address = \"{distAddress}\"")}}

            [upgrade]
            target_version = "6.3.1"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var plan = PlanLoader.Load(text, "mim.toml").Plan!;
        return (ProductFactory.Create(plan, new ShellFactory(plan)), plan.Nodes[1], plan.Nodes[0]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Before_6_0_the_legacy_words_are_used()
    {
        var (product, node, seed) = Build("mim-status-3.4.txt");

        var membership = await product.MembershipAsync(node, CancellationToken.None);
        var sessions = await product.SessionCountAsync(node, CancellationToken.None);
        await product.JoinClusterAsync(node, seed, CancellationToken.None);

        membership.Running.ShouldBe(["mongooseim@node2", "mongooseim@node1"]);
        sessions.ShouldBe(4);
        Calls.ShouldContain("mnesia info");
        Calls.ShouldContain("join_cluster -f mongooseim@node1");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_refused_distribution_port_means_stopped_without_asking_mongooseimctl()
    {
        // A listener on the node's address stands in for its Erlang distribution port.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.0.12"), 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var (product, node, _) = Build("mim-status-6.3.1.txt", distAddress: $"{{host}}:{port}");
        try
        {
            (await product.StatusAsync(node, CancellationToken.None)).IsRunning.ShouldBeTrue();
            Calls.Count(c => c == "status").ShouldBe(1);
        }
        finally
        {
            listener.Stop();
        }

        var down = await product.StatusAsync(node, CancellationToken.None);

        down.State.ShouldBe(NodeRunState.Stopped);
        down.Detail.ShouldContain($"127.0.0.12:{port}");
        Calls.Count(c => c == "status").ShouldBe(1, "mongooseimctl was not asked again");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_distribution_address_that_refuses_while_the_node_runs_is_an_error_naming_the_setting()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt", distAddress: "{host}:1");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.StatusAsync(node, CancellationToken.None)
        );

        error.Message.ShouldContain("127.0.0.12:1 (product.dist_address) refuses connections");
        error.Message.ShouldContain("mim-2 runs");
    }

    [Fact(Timeout = 30_000)]
    public async Task From_6_0_the_GraphQL_CLI_is_used()
    {
        var (product, node, seed) = Build("mim-status-6.3.1.txt");

        var membership = await product.MembershipAsync(node, CancellationToken.None);
        var sessions = await product.SessionCountAsync(node, CancellationToken.None);
        await product.JoinClusterAsync(node, seed, CancellationToken.None);

        membership.Stopped.ShouldBe(["mongooseim@mongooseim-2"]);
        sessions.ShouldBe(7);
        Calls.ShouldContain("server joinCluster --node mongooseim@node1");
        Calls.ShouldNotContain("mnesia info");
    }

    [Fact(Timeout = 30_000)]
    public async Task Eviction_kicks_the_sessions_on_this_node_through_the_GraphQL_CLI()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt");

        var ended = await product.EvictSessionsAsync(node, 5, CancellationToken.None);

        ended.ShouldBe(2);
        Calls
            .Where(c => c.StartsWith("session kickUserSession ", StringComparison.Ordinal))
            .ShouldBe(
                [
                    "session kickUserSession --user alice@localhost/phone --reason server-upgrade:please-reconnect",
                    "session kickUserSession --user carol@localhost/web --reason server-upgrade:please-reconnect",
                ],
                ignoreOrder: true // kicked at once
            );
        Calls.ShouldNotContain(c => c.StartsWith("session kickUser ", StringComparison.Ordinal));

        // The listing (a fixture) still shows both: kicked a moment ago, they are closing, not kicked again.
        (await product.EvictSessionsAsync(node, 1, CancellationToken.None)).ShouldBe(0);
        Calls.Count(c => c.StartsWith("session kickUserSession ", StringComparison.Ordinal)).ShouldBe(2);
        Calls.Count(c => c == "session listSessions").ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_drain_evicting_a_share_per_tick_lists_the_sessions_once_not_at_every_tick()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt");

        var first = await product.EvictSessionsAsync(node, 1, CancellationToken.None);
        var second = await product.EvictSessionsAsync(node, 1, CancellationToken.None);

        (first, second).ShouldBe((1L, 1L));
        Calls.Count(c => c == "session listSessions").ShouldBe(1);
        Calls.Count(c => c.StartsWith("session kickUserSession ", StringComparison.Ordinal)).ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task Before_6_0_eviction_is_left_to_the_load_balancers()
    {
        var (product, node, _) = Build("mim-status-3.4.txt");

        (await product.EvictSessionsAsync(node, 5, CancellationToken.None)).ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task Stop_waits_for_node_down_and_start_for_started()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt");

        await product.StopAsync(node, CancellationToken.None);
        var stopped = await product.StatusAsync(node, CancellationToken.None);
        await product.StartAsync(node, CancellationToken.None);
        var started = await product.StatusAsync(node, CancellationToken.None);

        stopped.State.ShouldBe(NodeRunState.Stopped);
        stopped.Detail.ShouldContain("nodedown");
        started.Version.ShouldBe("6.3.1");
        (await product.SessionCountAsync(node, CancellationToken.None)).ShouldBe(7);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_usage_answer_names_the_dialect_setting()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt", cli: "legacy");
        File.WriteAllText(
            Path.Combine(_folder, "status.txt"),
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "mim-status-6.3.1.txt"))
        );

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.JoinClusterAsync(
                node,
                new NodeSpec("x", "127.0.0.19", "mongooseim@node9", new Dictionary<string, string>()),
                CancellationToken.None
            )
        );

        error.Message.ShouldContain("exit code 2, usage");
        error.Message.ShouldContain("product.cli");
    }

    [Fact(Timeout = 30_000)]
    public async Task Node_names_with_dash_f_are_refused_before_the_legacy_words_reach_mongooseimctl_6()
    {
        var (product, node, _) = Build("mim-status-6.3.1.txt", cli: "legacy");
        var trap = new NodeSpec("front", "127.0.0.19", "mongooseim@web-front", new Dictionary<string, string>());

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.JoinClusterAsync(node, trap, CancellationToken.None)
        );

        error.Message.ShouldContain("-f");
        Calls.ShouldBe(["status"]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
