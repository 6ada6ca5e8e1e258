namespace RollingUpgrade.Tests;

/// <summary>
/// The README's MongooseIM example (deploy/examples/rolling-mongooseim.toml: sudo = true, ctl = mongooseimctl,
/// 6.2.1 -> 6.3.0) end to end against emulated .deb installs: every argument must survive the re-exec.
/// </summary>
public sealed class MongooseImReadmeExampleTests : IAsyncLifetime
{
    private readonly EmulatedMongooseImCluster _cluster = new();

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 disposes a test class through IAsyncLifetime, not IAsyncDisposable: the cluster's HAProxy is
    // stopped here by its process id.
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 180_000)]
    public async Task The_readme_example_upgrades_three_deb_installs_under_sudo()
    {
        var path = _cluster.WritePlan("rolling-mongooseim.toml");
        await _cluster.WaitAllUpAsync();

        var result = await CliRunner.RunAsync("run", path, "--state-dir", _cluster.StateDir);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        _cluster.Nodes.ShouldAllBe(n => n.Version == "6.3.0" && n.Running);
        foreach (var node in _cluster.Nodes)
        {
            node.Calls.ShouldContain("[mnesia][systemInfo]");
            node.Calls.ShouldAllBe(c => !c.Contains("[This]") && !c.Contains("[running_db_nodes,db_nodes]"));
        }
    }
}
