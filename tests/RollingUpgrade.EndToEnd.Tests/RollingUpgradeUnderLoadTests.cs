using RollingUpgrade.Cli;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>Failures during a rolling upgrade of a real ejabberd cluster under client load end safe.</summary>
[Collection("harness")]
public sealed class RollingUpgradeUnderLoadTests(ITestOutputHelper output) : EjabberdUnderLoadTests(output)
{
    [Fact(Timeout = 300_000)]
    public async Task A_node_restarted_with_a_wiped_mnesia_directory_never_returns_to_rotation()
    {
        // The real failure: a node whose mnesia directory is gone starts as a cluster of its own. It is up and
        // answers, so only the exact membership check can keep it out of rotation.
        var plan = Harness.WritePlan(
            RepositoryRoot(),
            text =>
                text.Replace(
                    $"install = [\"{Harness.Folder}/ej/ejnode\", \"install\", \"{{var.index}}\", \"{{version}}\"]",
                    $"install = \"{Harness.Folder}/ej/ejnode install {{var.index}} {{version}} && if [ {{node}} = ej2 ]; "
                        + $"then rm -rf {Harness.Folder}/ej/n{{var.index}}/spool/*; fi\"",
                    StringComparison.Ordinal
                )
        );

        var (code, _, stderr) = await RunAsync(plan);
        await Task.Delay(3000);
        await Load.StopAsync();
        Output.WriteLine(Load.Summary());

        code.ShouldBe(1, stderr);
        stderr.ShouldContain("(verify ej2: status started");
        stderr.ShouldContain("ej2 out of rotation; ej1, ej3 serving");
        (await Harness.Cluster.CtlAsync(2, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        var xmpp = await Harness.ServerStatusAsync("be_xmpp");
        xmpp["ej1"].ShouldBe("UP");
        xmpp["ej3"].ShouldBe("UP");
        xmpp["ej2"].ShouldNotBe("UP");
        Load.Failed(LoadOperations.Connect).ShouldBe(0);
        Load.Failed(LoadOperations.Login).ShouldBe(0);
        Load.Failed(LoadOperations.Http).ShouldBe(0);
    }

    /// <summary>Evaluates an Erlang expression on node i through a hidden node, as the cluster's ctl script does.</summary>
    private async Task<string> EvalOnNodeAsync(int i, string expression)
    {
        var cluster = Harness.Cluster;
        using var erl = ChildProcess.Start(
            "/usr/bin/erl",
            [
                "-name",
                $"probe{Environment.ProcessId}@127.0.0.1",
                "-setcookie",
                cluster.Cookie,
                "-hidden",
                "-noinput",
                "-erl_epmd_port",
                "4370",
                "-start_epmd",
                "false",
                "-dist_listen",
                "false",
                "-eval",
                $"io:format(\"~p~n\", [rpc:call('{cluster.ErlangNode(i)}', erlang, apply, [fun() -> {expression} "
                    + "end, []])]), halt().",
            ],
            workingDirectory: cluster.Folder
        );
        (await erl.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBe(0, erl.Output);
        return erl.Output;
    }

    [Fact(Timeout = 300_000)]
    public async Task A_table_whose_only_copy_is_on_one_node_stops_the_run_before_anything_is_touched()
    {
        // A real mnesia table with a single RAM copy on ej2: stopping ej2 would empty it. ejabberd's own tables
        // (bosh and ejabberd_commands are local to each node) must not be mistaken for it.
        var created = await EvalOnNodeAsync(
            2,
            $"mnesia:create_table(probe_only_on_ej2, [{{ram_copies, ['{Harness.Cluster.ErlangNode(2)}']}}])"
        );
        created.ShouldContain("{atomic,ok}");
        var plan = Harness.WritePlan(RepositoryRoot());

        var (code, _, stderr) = await RunAsync(plan);
        await Load.StopAsync();
        Output.WriteLine(Load.Summary());

        code.ShouldBe(1, stderr);
        stderr.ShouldContain("ej2 holds the only copy of probe_only_on_ej2");
        stderr.ShouldNotContain("bosh");
        stderr.ShouldContain("nothing touched");
        for (var i = 1; i <= 3; i++)
        {
            (await Harness.Cluster.CtlAsync(i, "status")).Output.ShouldContain("ejabberd 23.01 is running");
        }

        (await Harness.ServerStatusAsync("be_xmpp")).Values.ShouldAllBe(s => s == "UP");
        Load.Failed(LoadOperations.Login).ShouldBe(0);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_failed_install_on_node_2_halts_with_it_out_of_rotation_and_the_others_serving()
    {
        var plan = Harness.WritePlan(
            RepositoryRoot(),
            text =>
                text.Replace(
                    $"install = [\"{Harness.Folder}/ej/ejnode\", \"install\", \"{{var.index}}\", \"{{version}}\"]",
                    $"install = \"if [ {{node}} = ej2 ]; then echo 'E: package ejabberd 24.0 not found' >&2; exit "
                        + $"100; fi; {Harness.Folder}/ej/ejnode install {{var.index}} {{version}}\"",
                    StringComparison.Ordinal
                )
        );

        var (code, _, stderr) = await RunAsync(plan);
        await Task.Delay(3000);
        await Load.StopAsync();
        Output.WriteLine(Load.Summary());

        code.ShouldBe(1);
        stderr.ShouldContain("E: package ejabberd 24.0 not found");
        stderr.ShouldContain("ej2 out of rotation; ej1, ej3 serving");
        stderr.ShouldContain("rollingupgrade resume");
        var xmpp = await Harness.ServerStatusAsync("be_xmpp");
        xmpp["ej1"].ShouldBe("UP");
        xmpp["ej3"].ShouldBe("UP");
        xmpp["ej2"].ShouldStartWith("DOWN");
        (await Harness.Cluster.CtlAsync(1, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        (await Harness.Cluster.CtlAsync(3, "status")).Output.ShouldContain("ejabberd 23.01 is running");
        Load.Failed(LoadOperations.Connect).ShouldBe(0);
        Load.Failed(LoadOperations.Login).ShouldBe(0);
        Load.Failed(LoadOperations.Http).ShouldBe(0);
        Load.Failed(LoadOperations.Ping).ShouldBe(0);
    }
}

[CollectionDefinition("harness", DisableParallelization = true)]
public sealed class HarnessCollection;
