using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

public sealed class EmbeddedProxyTests : IAsyncLifetime
{
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync() => _proxy = await ProxyFixture.StartAsync();

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static async Task<(TcpClient Client, StreamReader Reader, string Greeting)> TcpAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var reader = new StreamReader(client.GetStream());
        var greeting = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)) ?? string.Empty;
        return (client, reader, greeting);
    }

    [Fact(Timeout = 60_000)]
    public async Task Drain_keeps_slow_requests_websockets_and_tcp_sessions_while_new_traffic_goes_elsewhere()
    {
        using var lb = _proxy.Adapter();
        var n1 = _proxy.Nodes[0];
        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Maintenance, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Maintenance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_proxy.HttpPort}/") };
        var slow = http.GetStringAsync("/slow");
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{_proxy.HttpPort}/ws"), CancellationToken.None);
        var (tcp, reader, greeting) = await TcpAsync(_proxy.TcpPort);
        greeting.ShouldBe("hello from n1 1.0");
        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Ready, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Ready, CancellationToken.None);

        await lb.SetStateAsync(n1, ServerAdminState.Drain, CancellationToken.None);

        (await lb.ReadAsync([n1], CancellationToken.None)).Single().LiveConnections.ShouldBe(3);
        for (var i = 0; i < 20; i++)
        {
            (await http.GetStringAsync("/")).ShouldNotStartWith("n1");
            var (fresh, _, hello) = await TcpAsync(_proxy.TcpPort);
            hello.ShouldNotBe("hello from n1 1.0");
            fresh.Dispose();
        }

        await ws.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        var got = await ws.ReceiveAsync(buffer, CancellationToken.None);
        Encoding.UTF8.GetString(buffer, 0, got.Count).ShouldBe("n1: ping");
        await tcp.GetStream().WriteAsync(Encoding.UTF8.GetBytes("still there\n"));
        (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe("still there");
        (await slow).ShouldBe("n1 1.0 slow");

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        tcp.Dispose();
        await WaitForAsync(async () =>
            (await lb.ReadAsync([n1], CancellationToken.None)).Single().LiveConnections == 0
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task The_cumulative_session_count_grows_with_requests_and_connections_and_stops_once_drained()
    {
        using var lb = _proxy.Adapter();
        var n1 = _proxy.Nodes[0];
        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Maintenance, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Maintenance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_proxy.HttpPort}/") };
        var before = (await lb.ReadAsync([n1], CancellationToken.None)).Single().SessionsTotal;
        before.ShouldNotBeNull();

        (await http.GetStringAsync("/")).ShouldStartWith("n1");
        (await http.GetStringAsync("/")).ShouldStartWith("n1");
        var (tcp, _, greeting) = await TcpAsync(_proxy.TcpPort);
        greeting.ShouldBe("hello from n1 1.0");
        tcp.Dispose();

        var after = (await lb.ReadAsync([n1], CancellationToken.None)).Single().SessionsTotal;
        after.ShouldBe(before + 3);

        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Ready, CancellationToken.None);
        await lb.SetStateAsync(n1, ServerAdminState.Drain, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            (await http.GetStringAsync("/")).ShouldStartWith("n2");
        }

        // Health probes go on meanwhile; they are not sessions the proxy sent.
        await Task.Delay(1500);
        (await lb.ReadAsync([n1], CancellationToken.None)).Single().SessionsTotal.ShouldBe(after);
    }

    [Fact(Timeout = 60_000)]
    public async Task Eviction_ends_live_sessions_one_at_a_time()
    {
        using var lb = _proxy.Adapter();
        var n1 = _proxy.Nodes[0];
        await lb.SetStateAsync(_proxy.Nodes[1], ServerAdminState.Maintenance, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Maintenance, CancellationToken.None);
        var one = await TcpAsync(_proxy.TcpPort);
        var two = await TcpAsync(_proxy.TcpPort);

        (await lb.EvictAsync(n1, 1, CancellationToken.None)).ShouldBe(1);

        (await one.Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5))).ShouldBeNull();
        await two.Client.GetStream().WriteAsync(Encoding.UTF8.GetBytes("alive\n"));
        (await two.Reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe("alive");
        (await lb.ReadAsync([n1], CancellationToken.None)).Single().LiveConnections.ShouldBe(1);
        one.Client.Dispose();
        two.Client.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_ninety_ten_split_sends_a_thousand_requests_within_five_percent()
    {
        using var lb = _proxy.Adapter();
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Maintenance, CancellationToken.None);

        await lb.SetTrafficShareAsync([_proxy.Nodes[0]], [_proxy.Nodes[1]], 10, CancellationToken.None);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_proxy.HttpPort}/") };
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 1000; i++)
        {
            var who = (await http.GetStringAsync("/")).Split(' ')[0];
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }

        counts.GetValueOrDefault("n3").ShouldBe(0);
        counts.GetValueOrDefault("n2").ShouldBeInRange(50, 150);
        (await lb.ReadAsync(_proxy.Nodes.Take(2).ToList(), CancellationToken.None))
            .Single(s => s.Node == "n2")
            .TrafficPercent.ShouldBe(10);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_destination_that_fails_its_health_check_gets_no_new_traffic()
    {
        using var lb = _proxy.Adapter();
        await _proxy.Node("n3").DisposeAsync();

        await WaitForAsync(async () =>
            !(await lb.ReadAsync([_proxy.Nodes[2]], CancellationToken.None)).Single().Healthy
        );

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_proxy.HttpPort}/") };
        for (var i = 0; i < 30; i++)
        {
            (await http.GetStringAsync("/")).ShouldNotStartWith("n3");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Ready_waits_for_a_node_that_has_just_started_to_pass_the_health_check()
    {
        using var lb = _proxy.Adapter();
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Drain, CancellationToken.None);
        await _proxy.Node("n3").DisposeAsync();
        await WaitForAsync(async () =>
            !(await lb.ReadAsync([_proxy.Nodes[2]], CancellationToken.None)).Single().Healthy
        );

        // The node comes back a moment after it is set ready, as after a start whose checks are quick.
        var restart = Task.Run(async () =>
        {
            await Task.Delay(700);
            await _proxy.RestartNodeAsync("n3");
        });
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Ready, CancellationToken.None);
        await restart;

        var state = (await lb.ReadAsync([_proxy.Nodes[2]], CancellationToken.None)).Single();
        (state.Admin, state.Healthy).ShouldBe((ServerAdminState.Ready, true));
    }

    [Fact(Timeout = 60_000)]
    public async Task Ready_on_a_node_that_never_passes_the_health_check_fails_after_ready_timeout()
    {
        using var lb = _proxy.Adapter(readyTimeout: TimeSpan.FromSeconds(1));
        await lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Drain, CancellationToken.None);
        await _proxy.Node("n3").DisposeAsync();
        await WaitForAsync(async () =>
            !(await lb.ReadAsync([_proxy.Nodes[2]], CancellationToken.None)).Single().Healthy
        );

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            lb.SetStateAsync(_proxy.Nodes[2], ServerAdminState.Ready, CancellationToken.None)
        );

        error.Message.ShouldContain("n3 is ready but has failed the proxy's health check for 1s (ready_timeout)");
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
}

public sealed class ProxyAdminAuthTests : IAsyncLifetime
{
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("RU_PROXY_TOKEN", "s3cret-token");
        _proxy = await ProxyFixture.StartAsync(token: "s3cret-token");
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact(Timeout = 30_000)]
    public async Task The_admin_api_requires_the_bearer_token_when_one_is_set()
    {
        using var http = new HttpClient();

        (await http.GetAsync(new Uri(_proxy.AdminUrl + "v1/clusters"))).StatusCode.ShouldBe(
            HttpStatusCode.Unauthorized
        );
        using var withToken = _proxy.Adapter("RU_PROXY_TOKEN");
        (await withToken.ReadAsync(_proxy.Nodes, CancellationToken.None)).Count.ShouldBe(3);
        using var without = _proxy.Adapter();
        (
            await Should.ThrowAsync<UnexpectedAnswerException>(() =>
                without.ReadAsync(_proxy.Nodes, CancellationToken.None)
            )
        ).Message.ShouldContain("401");
    }

    [Fact]
    public void A_config_that_binds_the_admin_api_off_loopback_needs_a_token()
    {
        const string text =
            "[admin]\nlisten = \"0.0.0.0:9901\"\n\n[[clusters]]\nname = \"xmpp\"\n[[clusters.destinations]]\nname = "
            + "\"n1\"\nhost = \"127.0.0.11\"\ntcp_port = 5222\n\n[[listeners]]\nkind = \"tcp\"\nlisten = "
            + "\"127.0.0.1:15222\"\ncluster = \"xmp\"\n";

        var (options, diagnostics) = ProxyOptionsLoader.Load(text, "proxy.toml");

        options.ShouldBeNull();
        diagnostics
            .Select(d => d.ToString())
            .ShouldBe([
                "proxy.toml:2:10: 'admin.listen' is not a loopback address: set 'admin.token_env' so the admin API "
                    + "requires a bearer token",
                "proxy.toml:14:11: 'listeners[1].cluster' names cluster 'xmp', which is not declared; did you mean "
                    + "'xmpp'?",
            ]);
    }
}
