using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Execution;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>A real three-node ejabberd 23.01 cluster on 127.0.0.11-13, started once for these tests.</summary>
public sealed class EjabberdClusterFixture : IAsyncLifetime
{
    public EjabberdCluster Cluster { get; } = new("ej", 11, 3, "nodes-test-cookie");

    public Plan Plan { get; private set; } = null!;

    public IProduct Product { get; private set; } = null!;

    /// <summary>
    /// The same nodes through ejabberd's HTTP API (product.api_url), the control command as fallback.
    /// </summary>
    public EjabberdProduct ApiProduct { get; private set; } = null!;

    public Plan ApiPlan { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Cluster.StartAsync(users: 2);
        var nodes = string.Join(
            "\n",
            Enumerable
                .Range(1, 3)
                .Select(i =>
                    $"[[nodes]]\nname = \"n{i}\"\nhost = \"{Cluster.Address(i)}\"\nerlang_node = \""
                    + $"{Cluster.ErlangNode(i)}\"\nvars = {{ index = \"{i}\" }}\n"
                )
        );
        var text = $$"""
            [cluster]
            name = "ej"

            {{nodes}}
            [access]
            kind = "local"
            command_timeout = "60s"

            [product]
            kind = "ejabberd"
            ctl = ["{{Cluster.CtlScript}}", "{erlang_node}"]
            start = ["{{Cluster.NodeScript}}", "start", "{var.index}"]
            start_timeout = "60s"

            [upgrade]
            target_version = "24.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 2
            """;
        var result = PlanLoader.Load(text, "ej.toml");
        Plan = result.Plan ?? throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        Product = ProductFactory.Create(Plan, new LocalShellFactory());
        PlanText = text;
        ApiPlan = WithApiUrl(text, "http://{host}:5280/api");
        ApiProduct = (EjabberdProduct)ProductFactory.Create(ApiPlan, new LocalShellFactory());
    }

    public string PlanText { get; private set; } = string.Empty;

    /// <summary>The fixture's plan with <c>product.api_url</c> set to <paramref name="url"/>.</summary>
    public Plan WithApiUrl(string text, string url)
    {
        var result = PlanLoader.Load(
            text.Replace("[product]\n", $"[product]\napi_url = \"{url}\"\n", StringComparison.Ordinal),
            "ej-api.toml"
        );
        return result.Plan ?? throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
    }

    public EjabberdProduct ProductWithApiUrl(string url) =>
        (EjabberdProduct)ProductFactory.Create(WithApiUrl(PlanText, url), new LocalShellFactory());

    /// <summary>The API product with a control command that always fails: what works, works over HTTP.</summary>
    public EjabberdProduct ApiOnlyProduct()
    {
        var text = PlanText.Replace(
            $"ctl = [\"{Cluster.CtlScript}\", \"{{erlang_node}}\"]",
            "ctl = [\"/bin/false\"]",
            StringComparison.Ordinal
        );
        text.ShouldNotBe(PlanText, "the control command was not replaced");
        return (EjabberdProduct)
            ProductFactory.Create(WithApiUrl(text, "http://{host}:5280/api"), new LocalShellFactory());
    }

    /// <summary>
    /// The API-only product with <c>product.dist_address</c> set: a stopped node can only be told
    /// by the distribution probe (its API is silent and its control command always fails).
    /// </summary>
    public EjabberdProduct DistributionProduct(string address)
    {
        var text = PlanText.Replace(
            $"ctl = [\"{Cluster.CtlScript}\", \"{{erlang_node}}\"]",
            $"ctl = [\"/bin/false\"]\ndist_address = \"{address}\"",
            StringComparison.Ordinal
        );
        text.ShouldNotBe(PlanText, "the control command was not replaced");
        return (EjabberdProduct)
            ProductFactory.Create(WithApiUrl(text, "http://{host}:5280/api"), new LocalShellFactory());
    }

    /// <summary>
    /// Logs an XMPP client in on node <paramref name="index"/> directly; its events go to <paramref name="events"/>.
    /// </summary>
    public async Task<Task> LogInAsync(
        int index,
        string user,
        System.Collections.Concurrent.ConcurrentQueue<LoadEvent> events,
        CancellationToken stop
    )
    {
        var client = new XmppLoadClient(
            0,
            Cluster.Address(index),
            5222,
            user,
            "pw-" + user,
            "localhost",
            events.Enqueue
        );
        var session = Task.Run(() => client.RunAsync(stop));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!events.Any(e => e.Operation == LoadOperations.Login && e.Succeeded))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the XMPP client did not log in to node {index}");
            await Task.Delay(100);
        }

        return session;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class LocalShellFactory : IShellFactory
    {
        public INodeShell For(NodeSpec node) => new LocalShell();
    }
}

[CollectionDefinition("ejabberd")]
public sealed class EjabberdCollection : ICollectionFixture<EjabberdClusterFixture>;

[Collection("ejabberd")]
public sealed class EjabberdProductTests(EjabberdClusterFixture fixture)
{
    private NodeSpec Node(int i) => fixture.Plan.Nodes[i - 1];

    private IReadOnlyList<string> All => fixture.Plan.Nodes.Select(n => n.ErlangNode).ToList();

    [Fact(Timeout = 60_000)]
    public async Task Status_reports_started_and_the_version()
    {
        var status = await fixture.Product.StatusAsync(Node(1), CancellationToken.None);

        status.State.ShouldBe(NodeRunState.Running);
        status.Version.ShouldBe("23.01");
    }

    [Fact(Timeout = 60_000)]
    public async Task Membership_is_exact_from_every_node()
    {
        for (var i = 1; i <= 3; i++)
        {
            var membership = await fixture.Product.MembershipAsync(Node(i), CancellationToken.None);
            MembershipCheck.Compare(membership, All).ShouldBeNull();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Session_count_is_per_node_and_connected_users_is_cluster_wide()
    {
        using var stop = new CancellationTokenSource();
        var events = new System.Collections.Concurrent.ConcurrentQueue<LoadEvent>();
        var client = new XmppLoadClient(
            0,
            fixture.Cluster.Address(2),
            5222,
            "user1",
            "pw-user1",
            "localhost",
            events.Enqueue
        );
        var session = Task.Run(() => client.RunAsync(stop.Token));
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!events.Any(e => e.Operation == LoadOperations.Login && e.Succeeded))
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, "the XMPP client did not log in to node 2");
                await Task.Delay(100);
            }

            (await fixture.Product.SessionCountAsync(Node(2), CancellationToken.None)).ShouldBe(1);
            (await fixture.Product.SessionCountAsync(Node(1), CancellationToken.None)).ShouldBe(0);
            (await ((EjabberdProduct)fixture.Product).ConnectedUsersAsync(Node(1), CancellationToken.None)).ShouldBe(1);
        }
        finally
        {
            await stop.CancelAsync();
            await session;
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Stop_and_start_a_node_and_it_rejoins_with_exact_membership()
    {
        await fixture.Product.StopAsync(Node(3), CancellationToken.None);

        (await fixture.Product.StatusAsync(Node(3), CancellationToken.None)).State.ShouldBe(NodeRunState.Stopped);
        var whileDown = await fixture.Product.MembershipAsync(Node(1), CancellationToken.None);
        MembershipCheck
            .Compare(whileDown, All)
            .ShouldBe(
                $"running db nodes are [{string.Join(", ", whileDown.Running)}]: missing "
                    + $"{fixture.Cluster.ErlangNode(3)}; stopped {fixture.Cluster.ErlangNode(3)}"
            );
        (await fixture.Product.SessionCountAsync(Node(3), CancellationToken.None)).ShouldBe(0);

        await fixture.Product.StartAsync(Node(3), CancellationToken.None);

        (await fixture.Product.StatusAsync(Node(3), CancellationToken.None)).IsRunning.ShouldBeTrue();
        MembershipCheck
            .Compare(await fixture.Product.MembershipAsync(Node(3), CancellationToken.None), All)
            .ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task Join_to_an_unreachable_node_fails_with_ejabberds_words()
    {
        var ghost = new NodeSpec("ghost", "127.0.0.19", "ej9@127.0.0.19", new Dictionary<string, string>());

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            fixture.Product.JoinClusterAsync(Node(2), ghost, CancellationToken.None)
        );

        error.Message.ShouldContain("ej9@127.0.0.19");
        MembershipCheck
            .Compare(await fixture.Product.MembershipAsync(Node(2), CancellationToken.None), All)
            .ShouldBeNull();
    }
}

[Collection("ejabberd")]
public sealed class EjabberdClusterCommandTests(EjabberdClusterFixture fixture)
{
    private EjabberdProduct Product => (EjabberdProduct)fixture.Product;

    [Fact(Timeout = 60_000)]
    public async Task List_cluster_gives_the_running_nodes_unquoted()
    {
        var running = await Product.ListClusterAsync(fixture.Plan.Nodes[0], CancellationToken.None);

        running
            .Order(StringComparer.Ordinal)
            .ShouldBe(fixture.Plan.Nodes.Select(n => n.ErlangNode).Order(StringComparer.Ordinal));
    }
}

/// <summary>leave_cluster halts the leaving node: tested on a cluster of its own (127.0.0.14-15).</summary>
public sealed class EjabberdLeaveClusterTests : IAsyncLifetime
{
    private readonly EjabberdCluster _cluster = new("lv", 14, 2, "leave-test-cookie");
    private EjabberdProduct _product = null!;
    private Plan _plan = null!;

    public async Task InitializeAsync()
    {
        await _cluster.StartAsync();
        var nodes = string.Join(
            "\n",
            Enumerable
                .Range(1, 2)
                .Select(i =>
                    $"[[nodes]]\nname = \"l{i}\"\nhost = \"{_cluster.Address(i)}\"\nerlang_node = \""
                    + $"{_cluster.ErlangNode(i)}\"\n"
                )
        );
        var text =
            $"[cluster]\nname = \"lv\"\n\n{nodes}\n[access]\nkind = \"local\"\n\n[product]\nkind = \"ejabberd\"\nctl "
            + $"= [\"{_cluster.CtlScript}\", \"{{erlang_node}}\"]\nstart_timeout = "
            + $"\"30s\"\n\n[upgrade]\ntarget_version = \"24.0\"\ninstall = \"true\"\nbackup_config = "
            + $"false\n\n[strategy]\nkind = \"rolling\"\ncapacity_nodes = 1\n";
        _plan = PlanLoader.Load(text, "lv.toml").Plan!;
        _product = (EjabberdProduct)ProductFactory.Create(_plan, new ShellFactory(_plan));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task Leave_cluster_halts_the_leaving_node_and_the_rest_sees_one_member()
    {
        await _product.LeaveClusterAsync(_plan.Nodes[0], _plan.Nodes[1], CancellationToken.None);

        (await _product.StatusAsync(_plan.Nodes[1], CancellationToken.None)).State.ShouldBe(NodeRunState.Stopped);
        var membership = await _product.MembershipAsync(_plan.Nodes[0], CancellationToken.None);
        membership.Running.ShouldBe([_cluster.ErlangNode(1)]);
        membership.Stopped.ShouldBeEmpty();
    }
}

/// <summary>The same questions through ejabberd's HTTP API, and eviction through the node itself.</summary>
[Collection("ejabberd")]
public sealed class EjabberdApiTests(EjabberdClusterFixture fixture)
{
    private NodeSpec Node(int i) => fixture.ApiPlan.Nodes[i - 1];

    private IReadOnlyList<string> All => fixture.ApiPlan.Nodes.Select(n => n.ErlangNode).ToList();

    [Fact(Timeout = 60_000)]
    public async Task Membership_and_sessions_over_http_agree_with_ejabberdctl()
    {
        var apiOnly = fixture.ApiOnlyProduct();
        for (var i = 1; i <= 3; i++)
        {
            MembershipCheck.Compare(await apiOnly.MembershipAsync(Node(i), CancellationToken.None), All).ShouldBeNull();
            (await apiOnly.RunStateAsync(Node(i), CancellationToken.None)).ShouldBe(NodeRunState.Running);
        }

        using var stop = new CancellationTokenSource();
        var events = new System.Collections.Concurrent.ConcurrentQueue<LoadEvent>();
        var session = await fixture.LogInAsync(1, "user2", events, stop.Token);
        try
        {
            (await apiOnly.SessionCountAsync(Node(1), CancellationToken.None)).ShouldBe(1);
            (await fixture.Product.SessionCountAsync(fixture.Plan.Nodes[0], CancellationToken.None)).ShouldBe(1);
            (await apiOnly.SessionCountAsync(Node(3), CancellationToken.None)).ShouldBe(0);
            var listed = await apiOnly.SessionsOnAsync(Node(1), CancellationToken.None);
            listed.Count.ShouldBe(1);
            (listed[0].User, listed[0].Host, listed[0].Node).ShouldBe(
                ("user2", "localhost", fixture.Cluster.ErlangNode(1))
            );
            (await fixture.ApiProduct.SessionsOnAsync(Node(2), CancellationToken.None)).ShouldBeEmpty();
        }
        finally
        {
            await stop.CancelAsync();
            await session;
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Eviction_through_the_node_ends_the_session_with_a_clean_stream_close(bool overHttp)
    {
        var product = overHttp ? fixture.ApiOnlyProduct() : (EjabberdProduct)fixture.Product;
        using var stop = new CancellationTokenSource();
        var events = new System.Collections.Concurrent.ConcurrentQueue<LoadEvent>();
        var session = await fixture.LogInAsync(2, "user1", events, stop.Token);
        try
        {
            (await product.EvictSessionsAsync(Node(2), 5, CancellationToken.None)).ShouldBe(1);

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!events.Any(e => e.Operation == LoadOperations.Disconnect))
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, "the evicted client saw no disconnect");
                await Task.Delay(50);
            }

            events.Single(e => e.Operation == LoadOperations.Disconnect).Detail.ShouldBe("stream-close");
        }
        finally
        {
            await stop.CancelAsync();
            await session;
        }

        (await product.EvictSessionsAsync(Node(3), 5, CancellationToken.None)).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Status_and_the_running_applications_version_come_over_http()
    {
        var status = await fixture.ApiOnlyProduct().StatusAsync(Node(2), CancellationToken.None);

        status.State.ShouldBe(NodeRunState.Running);
        status.Version.ShouldBe("23.01");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_stopped_node_is_told_by_its_refused_distribution_port()
    {
        var product = fixture.DistributionProduct("{host}:4370");
        (await product.StatusAsync(Node(3), CancellationToken.None)).IsRunning.ShouldBeTrue();

        await fixture.Cluster.StopNodeAsync(3);
        try
        {
            var down = await product.StatusAsync(Node(3), CancellationToken.None);

            down.State.ShouldBe(NodeRunState.Stopped);
            down.Detail.ShouldContain("127.0.0.13:4370");
            (await fixture.Product.StatusAsync(fixture.Plan.Nodes[2], CancellationToken.None)).State.ShouldBe(
                NodeRunState.Stopped,
                "ejabberdctl agrees"
            );
        }
        finally
        {
            await fixture.Cluster.StartNodeAsync(3);
        }

        (await product.StatusAsync(Node(3), CancellationToken.None)).IsRunning.ShouldBeTrue();
        MembershipCheck.Compare(await product.MembershipAsync(Node(3), CancellationToken.None), All).ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_distribution_address_that_refuses_while_the_node_runs_is_refused()
    {
        var product = fixture.DistributionProduct("{host}:4399");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.StatusAsync(Node(1), CancellationToken.None)
        );

        error.Message.ShouldContain("127.0.0.11:4399 (product.dist_address) refuses connections");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_distribution_address_that_stays_silent_is_asked_three_times_then_refused()
    {
        using var silent = SilentListener.Start("127.0.0.11");
        var product = fixture.DistributionProduct($"{{host}}:{silent.Port}");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.StatusAsync(Node(1), CancellationToken.None)
        );

        error.Message.ShouldContain($"127.0.0.11:{silent.Port} (product.dist_address) does not answer (3 attempts");
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(6), "1 s, 2 s and 4 s attempts");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_distribution_port_that_answers_on_a_second_attempt_is_taken()
    {
        using var silent = SilentListener.Start("127.0.0.11");
        var product = fixture.DistributionProduct($"{{host}}:{silent.Port}");

        // The first attempt (1 s) meets a full accept queue; the queue is emptied while the second one waits.
        var status = product.StatusAsync(Node(1), CancellationToken.None);
        await Task.Delay(1300);
        silent.Drain();

        (await status).IsRunning.ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_api_that_does_not_answer_falls_back_to_ejabberdctl()
    {
        // Nothing listens on port 1 of the node's address: every call falls back to the control command.
        var product = fixture.ProductWithApiUrl("http://{host}:1/api");

        MembershipCheck.Compare(await product.MembershipAsync(Node(1), CancellationToken.None), All).ShouldBeNull();
        (await product.SessionCountAsync(Node(3), CancellationToken.None)).ShouldBe(0);
        (await product.EvictSessionsAsync(Node(3), 5, CancellationToken.None)).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_api_url_that_reaches_another_node_is_refused()
    {
        // The plan refuses one URL for all nodes; a name or a VIP that leads to another node is
        // only seen in the answer: here n2's {host} is node 1's address.
        var misrouted = Node(2) with
        {
            Host = fixture.Cluster.Address(1),
        };

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            fixture.ApiProduct.StatusAsync(misrouted, CancellationToken.None)
        );

        error.Message.ShouldContain(
            $"answers for {fixture.Cluster.ErlangNode(1)}, not for n2 ({fixture.Cluster.ErlangNode(2)})"
        );
        error.Message.ShouldContain("product.api_url");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_api_path_is_an_error_naming_the_setting()
    {
        var product = fixture.ProductWithApiUrl("http://{host}:5280/not-the-api");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.MembershipAsync(Node(1), CancellationToken.None)
        );

        error.Message.ShouldContain("product.api_url");
    }

    [Fact(Timeout = 120_000)]
    public async Task Stop_and_start_over_http_wait_for_the_real_state()
    {
        (await fixture.ApiProduct.RunStateAsync(Node(3), CancellationToken.None)).ShouldBe(NodeRunState.Running);
        await fixture.ApiProduct.StopAsync(Node(3), CancellationToken.None);
        (await fixture.ApiProduct.RunStateAsync(Node(3), CancellationToken.None)).ShouldBe(NodeRunState.Stopped);

        (await fixture.Product.StatusAsync(fixture.Plan.Nodes[2], CancellationToken.None)).State.ShouldBe(
            NodeRunState.Stopped
        );
        (await fixture.ApiProduct.StatusAsync(Node(3), CancellationToken.None)).State.ShouldBe(NodeRunState.Stopped);

        await fixture.ApiProduct.StartAsync(Node(3), CancellationToken.None);

        (await fixture.Product.StatusAsync(fixture.Plan.Nodes[2], CancellationToken.None)).IsRunning.ShouldBeTrue();
        MembershipCheck
            .Compare(await fixture.ApiProduct.MembershipAsync(Node(3), CancellationToken.None), All)
            .ShouldBeNull();
    }
}
