namespace RollingUpgrade.Tests;

/// <summary>The CETS example (deploy/examples/rolling-mongooseim-cets.toml, 6.3.0 -> 6.3.1) on CETS-only nodes.</summary>
public sealed class MongooseImCetsExampleTests : IAsyncLifetime
{
    private readonly EmulatedMongooseImCluster _cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 disposes a test class through IAsyncLifetime, not IAsyncDisposable: the cluster's HAProxy is
    // stopped here by its process id.
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 180_000)]
    public async Task The_Cets_example_upgrades_three_Cets_only_nodes_under_sudo()
    {
        foreach (var node in _cluster.Nodes)
        {
            node.Databases("cets");
            node.Write("version", "6.3.0");
        }

        var path = _cluster.WritePlan("rolling-mongooseim-cets.toml");
        await _cluster.WaitAllUpAsync();

        var result = await CliRunner.RunAsync("run", path, "--state-dir", _cluster.StateDir);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        _cluster.Nodes.ShouldAllBe(n => n.Version == "6.3.1" && n.Running);
        foreach (var node in _cluster.Nodes)
        {
            node.Calls.ShouldContain("[cets][systemInfo]");
            node.Calls.ShouldNotContain(c => c.StartsWith("[mnesia]", StringComparison.Ordinal));
        }
    }
}
