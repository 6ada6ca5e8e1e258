using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>The adapter against a real HAProxy 2.6 on loopback.</summary>
public sealed class HAProxyAdapterTests : IAsyncLifetime
{
    private HAProxyFixture _haproxy = null!;

    public async Task InitializeAsync()
    {
        _haproxy = new HAProxyFixture();
        await _haproxy.WaitAllUpAsync(_haproxy.Adapter());
    }

    public async Task DisposeAsync() => await _haproxy.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task A_drained_server_keeps_its_long_lived_session_while_new_connections_land_elsewhere()
    {
        var adapter = _haproxy.Adapter();
        using var longLived = await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort);
        var node = _haproxy.Node(longLived.Server);

        await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);

        var state = (await adapter.ReadAsync([node], CancellationToken.None)).Single();
        state.Admin.ShouldBe(ServerAdminState.Drain);
        state.LiveConnections.ShouldBe(1);
        for (var i = 0; i < 6; i++)
        {
            using var fresh = await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort);
            fresh.Server.ShouldNotBe(longLived.Server);
        }

        (await longLived.EchoAsync("still here")).ShouldBe("still here");
        longLived.Dispose();
        await WaitForAsync(async () =>
            (await adapter.ReadAsync([node], CancellationToken.None)).Single().LiveConnections == 0
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task The_cumulative_session_count_grows_with_each_new_session_and_stops_once_drained()
    {
        var adapter = _haproxy.Adapter();
        await adapter.SetStateAsync(_haproxy.Node("ej2"), ServerAdminState.Maintenance, CancellationToken.None);
        await adapter.SetStateAsync(_haproxy.Node("ej3"), ServerAdminState.Maintenance, CancellationToken.None);
        var target = _haproxy.Node("ej1");
        var before = (await adapter.ReadAsync([target], CancellationToken.None)).Single().SessionsTotal;
        before.ShouldNotBeNull();
        for (var i = 0; i < 3; i++)
        {
            using var client = await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort);
            client.Server.ShouldBe("ej1");
        }

        var after = (await adapter.ReadAsync([target], CancellationToken.None)).Single().SessionsTotal;
        after.ShouldBe(before + 3);

        await adapter.SetStateAsync(_haproxy.Node("ej2"), ServerAdminState.Ready, CancellationToken.None);
        await adapter.SetStateAsync(target, ServerAdminState.Drain, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            using var client = await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort);
            client.Server.ShouldBe("ej2");
        }

        (await adapter.ReadAsync([target], CancellationToken.None)).Single().SessionsTotal.ShouldBe(after);
    }

    [Fact(Timeout = 60_000)]
    public async Task Eviction_ends_sessions_one_by_one()
    {
        var adapter = _haproxy.Adapter();
        var target = _haproxy.Node("ej1");
        await adapter.SetStateAsync(_haproxy.Node("ej2"), ServerAdminState.Maintenance, CancellationToken.None);
        await adapter.SetStateAsync(_haproxy.Node("ej3"), ServerAdminState.Maintenance, CancellationToken.None);
        var clients = new List<LiveClient>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort));
        }

        clients.ShouldAllBe(c => c.Server == "ej1");

        var ended = await adapter.EvictAsync(target, 1, CancellationToken.None);

        ended.ShouldBe(1);
        var closed = 0;
        foreach (var client in clients)
        {
            closed += await client.IsClosedAsync(TimeSpan.FromMilliseconds(500)) ? 1 : 0;
        }

        closed.ShouldBe(1);
        (await adapter.EvictAsync(target, 10, CancellationToken.None)).ShouldBe(2);
        await WaitForAsync(async () =>
            (await adapter.ReadAsync([target], CancellationToken.None)).Single().LiveConnections == 0
        );
        clients.ForEach(c => c.Dispose());
    }

    [Fact(Timeout = 120_000)]
    public async Task Hundreds_of_sessions_are_evicted_a_hundred_to_a_command_line_and_only_the_nodes()
    {
        var commands = new CommandCounter();
        var adapter = new HAProxyLoadBalancer(
            new LoadBalancerSpec(
                "edge",
                LoadBalancerKinds.HAProxy,
                new HAProxySettings([_haproxy.Primary.SocketPath], ["be_xmpp", "be_http"], TimeSpan.FromSeconds(5))
            ),
            log: commands
        );
        var target = _haproxy.Node("ej1");
        var other = _haproxy.Node("ej2");
        await adapter.SetStateAsync(_haproxy.Node("ej3"), ServerAdminState.Maintenance, CancellationToken.None);
        await adapter.SetStateAsync(other, ServerAdminState.Maintenance, CancellationToken.None);
        var onTarget = new List<LiveClient>();
        for (var i = 0; i < 250; i++)
        {
            onTarget.Add(await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort));
        }

        await adapter.SetStateAsync(other, ServerAdminState.Ready, CancellationToken.None);
        await adapter.SetStateAsync(target, ServerAdminState.Drain, CancellationToken.None);
        await WaitForAsync(async () => (await adapter.ReadAsync([other], CancellationToken.None)).Single().Healthy);
        var onOther = new List<LiveClient>();
        for (var i = 0; i < 5; i++)
        {
            onOther.Add(await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort));
        }

        onTarget.ShouldAllBe(c => c.Server == "ej1");
        onOther.ShouldAllBe(c => c.Server == "ej2");
        commands.Count = 0;

        var first = await adapter.EvictAsync(target, 120, CancellationToken.None);
        var firstCommands = commands.Count;
        var rest = await adapter.EvictAsync(target, 1000, CancellationToken.None);

        first.ShouldBe(120);
        rest.ShouldBe(130);
        // show stat, show servers state, show sess, then 120 shutdowns on two command lines (one by one: 123)
        firstCommands.ShouldBe(5);
        await WaitForAsync(async () =>
            (await adapter.ReadAsync([target], CancellationToken.None)).Single().LiveConnections == 0
        );
        foreach (var client in onOther)
        {
            (await client.EchoAsync("still here")).ShouldBe("still here");
        }

        (await adapter.EvictAsync(target, 10, CancellationToken.None)).ShouldBe(0);
        onTarget.ForEach(c => c.Dispose());
        onOther.ForEach(c => c.Dispose());
    }

    /// <summary>Counts the runtime API commands the adapter sends (each is logged once, with its reply's size).</summary>
    private sealed class CommandCounter : Microsoft.Extensions.Logging.ILogger
    {
        public int Count;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(
            Microsoft.Extensions.Logging.LogLevel logLevel,
            Microsoft.Extensions.Logging.EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (eventId.Id == 3001) // HAProxyLog.Command
            {
                Interlocked.Increment(ref Count);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Weights_for_a_ninety_ten_split_send_a_thousand_requests_within_five_percent()
    {
        var adapter = _haproxy.Adapter();
        await adapter.SetStateAsync(_haproxy.Node("ej3"), ServerAdminState.Maintenance, CancellationToken.None);

        await adapter.SetTrafficShareAsync([_haproxy.Node("ej1")], [_haproxy.Node("ej2")], 10, CancellationToken.None);

        var states = await adapter.ReadAsync([_haproxy.Node("ej1"), _haproxy.Node("ej2")], CancellationToken.None);
        // HAProxy's weights are whole numbers (1-256): the share read back is what they make, 10% within half a point.
        states.Single(s => s.Node == "n2").TrafficPercent!.Value.ShouldBe(10, tolerance: 0.5);

        // Both servers must have passed their health checks, or HAProxy sends everything to the one that has.
        await WaitForAsync(async () =>
            (await adapter.ReadAsync([_haproxy.Node("ej1"), _haproxy.Node("ej2")], CancellationToken.None)).All(s =>
                s.Healthy
            )
        );
        using var http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{_haproxy.Primary.HttpFrontendPort}/"),
        };
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 1000; i++)
        {
            var body = await http.GetStringAsync("/");
            counts[body] = counts.GetValueOrDefault(body) + 1;
        }

        counts.GetValueOrDefault("ej3").ShouldBe(0);
        counts.GetValueOrDefault("ej2").ShouldBeInRange(50, 150);
        counts.GetValueOrDefault("ej1").ShouldBeInRange(850, 950);
    }

    [Fact(Timeout = 60_000)]
    public async Task Refusals_carry_haproxys_own_words()
    {
        var client = new HAProxyRuntimeClient(
            new HAProxyEndpoint(_haproxy.Primary.SocketPath),
            TimeSpan.FromSeconds(5)
        );

        var noServer = await Should.ThrowAsync<HAProxyCommandException>(() =>
            client.ExecuteMutationAsync("set server be_http/nope state drain", CancellationToken.None)
        );
        noServer.Reply.ShouldBe("No such server.");
        var noBackend = await Should.ThrowAsync<HAProxyCommandException>(() =>
            client.ExecuteMutationAsync("set server be_nope/ej1 state drain", CancellationToken.None)
        );
        noBackend.Reply.ShouldBe("No such backend.");
        var weight = await Should.ThrowAsync<HAProxyCommandException>(() =>
            client.ExecuteMutationAsync("set server be_http/ej1 weight 300", CancellationToken.None)
        );
        weight.Reply.ShouldBe("Absolute weight can only be between 0 and 256 inclusive.");
    }

    [Fact(Timeout = 60_000)]
    public async Task Over_tcp_the_same_api_answers()
    {
        var client = new HAProxyRuntimeClient(
            new HAProxyEndpoint($"tcp:127.0.0.1:{_haproxy.Primary.StatsPort}"),
            TimeSpan.FromSeconds(5)
        );

        var reply = await client.ExecuteAsync("get weight be_xmpp/ej1", CancellationToken.None);

        reply.Trim().ShouldBe("1 (initial 1)");
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_socket_fails_after_bounded_retries_naming_the_socket()
    {
        var path = Path.Combine(_haproxy.Folder, "missing.sock");
        var client = new HAProxyRuntimeClient(new HAProxyEndpoint(path), TimeSpan.FromSeconds(5));

        var error = await Should.ThrowAsync<TransientException>(() =>
            client.ExecuteAsync("show stat", CancellationToken.None)
        );

        error.Message.ShouldStartWith($"no socket at {path}");
        error.Message.ShouldContain("stats socket");
        error.Message.ShouldNotContain("Cannot assign requested address");
    }

    [Fact(Timeout = 60_000)]
    public async Task HA_pair_partial_failure_puts_the_changed_instance_back()
    {
        var readOnly = _haproxy.Add("b", level: "operator");
        var pair = _haproxy.Adapter(_haproxy.Primary, readOnly);
        var node = _haproxy.Node("ej2");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            pair.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None)
        );

        error.Message.ShouldContain("Permission denied");
        error.Message.ShouldContain("were put back");
        var primaryOnly = _haproxy.Adapter(_haproxy.Primary);
        (await primaryOnly.ReadAsync([node], CancellationToken.None)).Single().Admin.ShouldBe(ServerAdminState.Ready);
    }

    [Fact(Timeout = 60_000)]
    public async Task HA_pair_changes_both_instances_and_sums_their_sessions()
    {
        var second = _haproxy.Add("b");
        var pair = _haproxy.Adapter(_haproxy.Primary, second);
        await _haproxy.WaitAllUpAsync(pair);
        using var one = await LiveClient.ConnectAsync(_haproxy.Primary.TcpFrontendPort);
        using var two = await LiveClient.ConnectAsync(second.TcpFrontendPort);
        var both = one.Server == two.Server ? 2 : 1;

        await pair.SetStateAsync(_haproxy.Node(one.Server), ServerAdminState.Drain, CancellationToken.None);

        (await _haproxy.Adapter(second).ReadAsync([_haproxy.Node(one.Server)], CancellationToken.None))
            .Single()
            .Admin.ShouldBe(ServerAdminState.Drain);
        (await pair.ReadAsync([_haproxy.Node(one.Server)], CancellationToken.None))
            .Single()
            .LiveConnections.ShouldBe(both);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_down_server_is_drained_and_verified_without_waiting_for_a_status_that_never_comes()
    {
        var adapter = _haproxy.Adapter();
        var node = _haproxy.Node("ej3");
        _haproxy.Backends["ej3"].StopListening();
        await WaitForAsync(async () => !(await adapter.ReadAsync([node], CancellationToken.None)).Single().Healthy);

        await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);

        var state = (await adapter.ReadAsync([node], CancellationToken.None)).Single();
        state.Admin.ShouldBe(ServerAdminState.Drain);
        state.Healthy.ShouldBeFalse();
        state.LiveConnections.ShouldBe(0);

        // Ready on a dead server is refused after the health wait, naming the check result.
        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            adapter.SetStateAsync(node, ServerAdminState.Ready, CancellationToken.None)
        );
        error.Message.ShouldContain("DOWN");
    }

    [Fact(Timeout = 60_000)]
    public async Task Draining_twice_and_enabling_from_maintenance_are_deliberate()
    {
        var adapter = _haproxy.Adapter();
        var node = _haproxy.Node("ej1");

        await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);
        await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);
        await adapter.SetStateAsync(node, ServerAdminState.Maintenance, CancellationToken.None);
        (await adapter.ReadAsync([node], CancellationToken.None)).Single().Admin.ShouldBe(ServerAdminState.Maintenance);

        await adapter.SetStateAsync(node, ServerAdminState.Ready, CancellationToken.None);

        var state = (await adapter.ReadAsync([node], CancellationToken.None)).Single();
        state.Admin.ShouldBe(ServerAdminState.Ready);
        state.Healthy.ShouldBeTrue();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met within 15s");
            }

            await Task.Delay(50);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_with_another_name_in_one_backend_is_drained_in_both()
    {
        var renamed = _haproxy.AddRenamed("ws", new Dictionary<string, string> { ["ej3"] = "ej-3" });
        var adapter = _haproxy.Adapter(renamed);
        var node = _haproxy.Node("ej3") with
        {
            BackendIds = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["edge"] = new Dictionary<string, string> { ["be_xmpp"] = "ej3", ["be_http"] = "ej-3" },
            },
        };

        await adapter.SetStateAsync(node, ServerAdminState.Drain, CancellationToken.None);

        (await adapter.ReadAsync([node], CancellationToken.None)).Single().Admin.ShouldBe(ServerAdminState.Drain);
        var client = new HAProxyRuntimeClient(new HAProxyEndpoint(renamed.SocketPath), TimeSpan.FromSeconds(5));
        var states = await client.ExecuteAsync("show servers state", CancellationToken.None);
        var lines = states.Split('\n');
        // srv_admin_state 8 is "drain set by the runtime API" (HAProxy's SRV_ADMF_DRAIN).
        lines.ShouldContain(l =>
            l.Contains(" be_xmpp ", StringComparison.Ordinal)
            && l.Contains(" ej3 ", StringComparison.Ordinal)
            && l.Split(' ')[6] == "8"
        );
        lines.ShouldContain(l =>
            l.Contains(" be_http ", StringComparison.Ordinal)
            && l.Contains(" ej-3 ", StringComparison.Ordinal)
            && l.Split(' ')[6] == "8"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_missing_from_one_backend_is_an_error_not_a_half_drain()
    {
        var renamed = _haproxy.AddRenamed("ws", new Dictionary<string, string> { ["ej3"] = "ej-3" });
        var adapter = _haproxy.Adapter(renamed);

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            adapter.SetStateAsync(_haproxy.Node("ej3"), ServerAdminState.Drain, CancellationToken.None)
        );

        error.Message.ShouldContain("no server 'ej3' (node n3) in backend 'be_http'");
        var client = new HAProxyRuntimeClient(new HAProxyEndpoint(renamed.SocketPath), TimeSpan.FromSeconds(5));
        var states = await client.ExecuteAsync("show servers state", CancellationToken.None);
        states
            .Split('\n')
            .Where(l => l.Contains(" ej3 ", StringComparison.Ordinal))
            .ShouldAllBe(l => l.Split(' ')[6] == "0");
    }
}
