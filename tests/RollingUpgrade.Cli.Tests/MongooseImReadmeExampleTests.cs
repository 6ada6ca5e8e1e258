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
            // Every file the node reads at start that exists, in one folder for this run.
            var backups = Directory.GetDirectories(Path.Combine(node.Base, "etc", "rollingupgrade-backups"));
            backups.Length.ShouldBe(1);
            Directory
                .GetFiles(backups[0])
                .Select(Path.GetFileName)
                .ShouldBe(["mongooseim.toml", "vm.args"], ignoreOrder: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_table_with_its_only_copy_on_one_node_stops_the_run_before_anything_is_touched()
    {
        var path = _cluster.WritePlan("rolling-mongooseim.toml");
        _cluster.Nodes[1].Write("local_tables", "schema disc_copies\npasswd disc_copies\nmod_only_here disc_copies\n");
        await _cluster.WaitAllUpAsync();

        var result = await CliRunner.RunAsync("run", path, "--state-dir", _cluster.StateDir);

        var said = result.Output + result.Error;
        result.ExitCode.ShouldBe(1, said);
        said.ShouldContain("mim-2 holds the only copy of mod_only_here");
        said.ShouldContain("single_copy_tables = [\"mod_only_here\"]");
        said.ShouldContain("Halted with nothing touched");
        _cluster.Nodes.ShouldAllBe(n => n.Version == "6.2.1" && n.Running);
        await _cluster.WaitAllUpAsync();
    }

    [Fact(Timeout = 180_000)]
    public async Task A_node_that_comes_back_alone_never_returns_to_rotation()
    {
        // The install on mim-2 loses its cluster (as a wiped mnesia directory does): it starts as a cluster of one,
        // up and answering, and only the exact membership check keeps it out of rotation.
        var path = _cluster.WritePlan("rolling-mongooseim.toml");
        File.WriteAllText(
            path,
            File.ReadAllText(path)
                .Replace(
                    "install = [\"sh\", \"-c\", \"echo $0 > $1\", \"{version}\", \"{var.base}/state/version\"]",
                    "install = [\"sh\", \"-c\", \"echo $0 > $1; if [ $2 = mim-2 ]; then rm -f $3; fi\", \"{version}\", "
                        + "\"{var.base}/state/version\", \"{node}\", \"{var.base}/state/cluster\"]",
                    StringComparison.Ordinal
                )
        );
        await _cluster.WaitAllUpAsync();

        var result = await CliRunner.RunAsync("run", path, "--state-dir", _cluster.StateDir);

        var said = result.Output + result.Error;
        result.ExitCode.ShouldBe(1, said);
        said.ShouldContain("membership seen from mim-2: running db nodes are [mongooseim@mim-2]: missing");
        // Only mim-2 is out; the others are in rotation (serving, or said to fail a health check if a loaded machine
        // failed one at the moment the state was read back).
        var state = System.Text.RegularExpressions.Regex.Match(said, "Halted with ([^\n]*)").Groups[1].Value;
        state.ShouldStartWith("mim-2 out of rotation; ", customMessage: said);
        state.ShouldContain("mim-1", customMessage: said);
        state.ShouldContain("mim-3", customMessage: said);
        _cluster.Nodes[1].Running.ShouldBeTrue("it is up, alone");
        var stat = await _cluster.HAProxyStatAsync();
        stat["mim2"].ShouldNotBe("UP", said);
        stat["mim1"].ShouldBe("UP", said);
        stat["mim3"].ShouldBe("UP", said);
    }
}
