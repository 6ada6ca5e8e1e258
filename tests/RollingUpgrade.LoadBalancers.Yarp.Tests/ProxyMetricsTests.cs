using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>The embedded proxy's own metrics on its admin listener, scraped after real traffic.</summary>
public sealed class ProxyMetricsTests : IAsyncLifetime
{
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync() => _proxy = await ProxyFixture.StartAsync();

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private async Task<IReadOnlyList<PrometheusText.Sample>> ScrapeAsync()
    {
        using var http = new HttpClient();
        return PrometheusText.Parse(await http.GetStringAsync(_proxy.AdminUrl + "metrics"));
    }

    private static double Bytes(IReadOnlyList<PrometheusText.Sample> samples, string destination, string direction) =>
        samples
            .Where(s =>
                s.Name == "rollingupgrade_proxy_bytes_total"
                && s.Has("destination", destination)
                && s.Has("direction", direction)
            )
            .Sum(s => s.Value);

    [Fact(Timeout = 30_000)]
    public async Task Bytes_are_counted_each_way_for_http_websocket_and_tcp_sessions()
    {
        using var lb = _proxy.Adapter();
        await lb.SetStateAsync(_proxy.Nodes[1], Ports.ServerAdminState.Maintenance, CancellationToken.None);
        await lb.SetStateAsync(_proxy.Nodes[2], Ports.ServerAdminState.Maintenance, CancellationToken.None);
        var before = await ScrapeAsync();

        using var http = new HttpClient();
        var body = await http.GetStringAsync($"http://127.0.0.1:{_proxy.HttpPort}/");
        var afterHttp = await ScrapeAsync();
        (Bytes(afterHttp, "n1", "to_clients") - Bytes(before, "n1", "to_clients")).ShouldBe(
            Encoding.UTF8.GetByteCount(body)
        );

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _proxy.TcpPort);
        var stream = tcp.GetStream();
        using var reader = new StreamReader(stream);
        var greeting = await reader.ReadLineAsync();
        var line = Encoding.UTF8.GetBytes("ping through the proxy\n");
        await stream.WriteAsync(line);
        var echo = await reader.ReadLineAsync();
        echo.ShouldNotBeNull();
        var afterTcp = await ScrapeAsync();
        (Bytes(afterTcp, "n1", "to_destination") - Bytes(afterHttp, "n1", "to_destination")).ShouldBe(line.Length);
        (Bytes(afterTcp, "n1", "to_clients") - Bytes(afterHttp, "n1", "to_clients")).ShouldBeGreaterThanOrEqualTo(
            greeting!.Length + echo.Length + 2
        );

        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{_proxy.HttpPort}/ws"), CancellationToken.None);
        var message = Encoding.UTF8.GetBytes("websocket bytes");
        await ws.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        await ws.ReceiveAsync(buffer, CancellationToken.None);
        var afterWs = await ScrapeAsync();
        (Bytes(afterWs, "n1", "to_destination") - Bytes(afterTcp, "n1", "to_destination")).ShouldBeGreaterThan(
            message.Length,
            "the frame with its header"
        );
        Bytes(afterWs, "n2", "to_clients").ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Per_destination_requests_health_weight_and_state_are_served_as_prometheus_text()
    {
        using var http = new HttpClient();
        for (var i = 0; i < 9; i++)
        {
            (await http.GetAsync($"http://127.0.0.1:{_proxy.HttpPort}/")).EnsureSuccessStatusCode();
        }

        using var lb = _proxy.Adapter();
        await lb.SetStateAsync(_proxy.Nodes[1], Ports.ServerAdminState.Drain, CancellationToken.None);

        using var response = await http.GetAsync(_proxy.AdminUrl + "metrics");
        response.EnsureSuccessStatusCode();
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var samples = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        samples
            .Where(s => s.Name == "rollingupgrade_proxy_sessions_total" && s.Has("cluster", "demo"))
            .Sum(s => s.Value)
            .ShouldBe(9);
        samples.Single(s => s.Name == "rollingupgrade_proxy_healthy" && s.Has("destination", "n1")).Value.ShouldBe(1);
        samples.Single(s => s.Name == "rollingupgrade_proxy_weight" && s.Has("destination", "n3")).Value.ShouldBe(100);
        samples
            .Single(s =>
                s.Name == "rollingupgrade_proxy_admin_state" && s.Has("destination", "n2") && s.Has("state", "drain")
            )
            .Value.ShouldBe(1);
        samples.Single(s => s.Name == "rollingupgrade_proxy_available" && s.Has("destination", "n2")).Value.ShouldBe(0);
        samples.ShouldContain(s => s.Name == "rollingupgrade_proxy_live_connections" && s.Has("destination", "n1"));
        samples.ShouldContain(s => s.Name == "rollingupgrade_proxy_errors_total");
    }
}
