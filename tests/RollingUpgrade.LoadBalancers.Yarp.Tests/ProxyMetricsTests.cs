using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>The embedded proxy's own metrics on its admin listener, scraped after real traffic.</summary>
public sealed class ProxyMetricsTests : IAsyncLifetime
{
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync() => _proxy = await ProxyFixture.StartAsync();

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

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
