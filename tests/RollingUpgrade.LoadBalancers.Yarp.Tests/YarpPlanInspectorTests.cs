using RollingUpgrade.LoadBalancers.Yarp;
using RollingUpgrade.Plans;

namespace RollingUpgrade.Tests;

/// <summary>What `validate`, `plan` and `run` learn from a running embedded proxy before touching anything.</summary>
public sealed class YarpPlanInspectorTests : IAsyncLifetime
{
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync() => _proxy = await ProxyFixture.StartAsync();

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static Plans.Model.Plan Plan(string adminUrl, string cluster, params string[] destinations)
    {
        var nodes = string.Concat(
            destinations.Select(
                (d, i) =>
                    $"[[nodes]]\nname = \"{d}\"\nhost = \"127.0.0.{31 + i}\"\nerlang_node = \"x{i}@127.0.0.{31 + i}\"\n"
                    + $"lb_ids = {{ proxy = \"{d}\" }}\n\n"
            )
        );
        var text = $"""
            [cluster]
            name = "c"

            {nodes}
            [access]
            kind = "local"

            [product]
            kind = "generic"
            [product.commands]
            status = "true"
            version = "echo 1.0"
            stop = "true"
            start = "true"

            [[load_balancers]]
            name = "proxy"
            kind = "yarp"
            admin_url = "{adminUrl}"
            cluster = "{cluster}"

            [upgrade]
            target_version = "2.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var result = PlanLoader.Load(text, "plan.toml");
        result.Succeeded.ShouldBeTrue(string.Join("\n", result.Diagnostics));
        return result.Plan!;
    }

    [Fact(Timeout = 30_000)]
    public async Task A_node_the_proxy_does_not_have_is_an_error_naming_it()
    {
        var plan = Plan(_proxy.AdminUrl, "demo", "n1", "n2", "n9");

        var found = await YarpPlanInspector.InspectAsync(plan, plan.LoadBalancers[0], 0, CancellationToken.None);

        var error = found.ShouldHaveSingleItem();
        error.IsWarning.ShouldBeFalse();
        error.Message.ShouldContain("has no destination 'n9' (node n9)");
        error.Location.Line.ShouldBeGreaterThan(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_node_present_finds_nothing_and_an_unknown_cluster_is_an_error()
    {
        var plan = Plan(_proxy.AdminUrl, "demo", "n1", "n2", "n3");
        (await YarpPlanInspector.InspectAsync(plan, plan.LoadBalancers[0], 0, CancellationToken.None)).ShouldBeEmpty();

        var other = Plan(_proxy.AdminUrl, "nosuch", "n1", "n2");
        var found = await YarpPlanInspector.InspectAsync(other, other.LoadBalancers[0], 0, CancellationToken.None);
        found.ShouldHaveSingleItem().Message.ShouldContain("cluster 'nosuch' could not be read");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_proxy_that_is_not_running_is_unreachable_not_wrong()
    {
        var url = _proxy.AdminUrl;
        await _proxy.Proxy.DisposeAsync();
        var plan = Plan(url, "demo", "n1", "n2");

        var found = await YarpPlanInspector.InspectAsync(plan, plan.LoadBalancers[0], 0, CancellationToken.None);

        var warning = found.ShouldHaveSingleItem();
        warning.IsUnreachable.ShouldBeTrue();
        warning.IsWarning.ShouldBeTrue();
        warning.Message.ShouldContain("cluster and destinations were not checked");
    }
}
