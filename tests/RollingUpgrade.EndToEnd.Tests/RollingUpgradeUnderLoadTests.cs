using RollingUpgrade.Cli;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// `rollingupgrade run` against a real ejabberd cluster behind a real HAProxy, nodes reached over
/// a real sshd, with 30 XMPP clients and 20 HTTP requests per second running the whole time.
/// </summary>
[Collection("harness")]
public sealed class RollingUpgradeUnderLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private UpgradeHarness _harness = null!;
    private LoadDriver _load = null!;

    public async Task InitializeAsync()
    {
        _harness = await UpgradeHarness.StartAsync(users: 30);
        _load = new LoadDriver();
        _load.Start(
            "127.0.0.1",
            _harness.HAProxy.TcpFrontendPort,
            _harness.Users,
            "localhost",
            _harness.HAProxy.HttpFrontendPort,
            "/api/status",
            20
        );
        await _load.WaitAllLoggedInAsync(30, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _load.DisposeAsync();
        await _harness.DisposeAsync();
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return dir.FullName;
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(string plan)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["run", plan], stdout, stderr);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact(Timeout = 300_000)]
    public async Task Every_node_is_upgraded_once_in_order_with_zero_failed_client_operations()
    {
        var plan = _harness.WritePlan(RepositoryRoot());

        var (code, stdout, _) = await RunAsync(plan);
        await Task.Delay(3000);
        await _load.StopAsync();
        output.WriteLine(_load.Summary());

        code.ShouldBe(0);
        for (var i = 1; i <= 3; i++)
        {
            (await _harness.Cluster.CtlAsync(i, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        }

        var journal = Journal.Read(
            Directory
                .GetFiles(Path.Combine(_harness.Folder, ".rollingupgrade", "ejabberd-local", "runs"), "*.jsonl")
                .Single()
        );
        journal
            .Where(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("Start:", StringComparison.Ordinal)
            )
            .Select(r => r.StepId)
            .ShouldBe(["Start:ej1", "Start:ej2", "Start:ej3"]);
        journal
            .Count(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("VerifyNode:", StringComparison.Ordinal)
            )
            .ShouldBe(3);
        journal
            .Count(r => r.Type == JournalTypes.StepStarted)
            .ShouldBe(journal.Count(r => r.Type == JournalTypes.StepSucceeded));
        journal.Last().Data!["outcome"].ShouldBe("succeeded");
        stdout.ShouldContain("SUCCEEDED");

        _load.Failed(LoadOperations.Connect).ShouldBe(0);
        _load.Failed(LoadOperations.Login).ShouldBe(0);
        _load.Failed(LoadOperations.Http).ShouldBe(0);
        _load.Failed(LoadOperations.Ping).ShouldBe(0);
        _load.Attempted(LoadOperations.Http).ShouldBeGreaterThan(100);
        var cuts = _load.Events.Where(e => e.Operation == LoadOperations.Disconnect).ToList();
        cuts.ShouldNotBeEmpty();

        // Evicted through ejabberd (kick_session): a stream error and a clean close, never a bare TCP cut,
        // at the plan's pace (5/s). The cuts of one node's drain form a burst apart from the next node's;
        // k cuts at 5/s span (k - 1) / 5 s, and even with the clients' own timing noise at least half of that.
        cuts.ShouldAllBe(c => c.Detail == "stream-close");
        var ordered = cuts.OrderBy(c => c.At).ToList();
        var bursts = new List<List<DateTimeOffset>> { new() { ordered[0].At } };
        foreach (var cut in ordered.Skip(1))
        {
            if (cut.At - bursts[^1][^1] > TimeSpan.FromSeconds(3))
            {
                bursts.Add([]);
            }

            bursts[^1].Add(cut.At);
        }

        foreach (var burst in bursts.Where(b => b.Count >= 5))
        {
            (burst[^1] - burst[0]).ShouldBeGreaterThanOrEqualTo(
                TimeSpan.FromSeconds((burst.Count - 1) / 5.0 * 0.5),
                $"{burst.Count} cuts within {(burst[^1] - burst[0]).TotalMilliseconds:0} ms: not paced at 5/s"
            );
        }
        foreach (var cut in cuts)
        {
            _load.Events.ShouldContain(
                e => e.Client == cut.Client && e.Operation == LoadOperations.Login && e.Succeeded && e.At > cut.At,
                $"client {cut.Client} cut at {cut.At:HH:mm:ss.fff} never logged in again"
            );
        }

        (await _harness.ServerStatusAsync("be_xmpp")).Values.ShouldAllBe(s => s == "UP");
    }

    [Fact(Timeout = 300_000)]
    public async Task A_node_restarted_with_a_wiped_mnesia_directory_never_returns_to_rotation()
    {
        // The real failure: a node whose mnesia directory is gone starts as a cluster of its own. It is up and
        // answers, so only the exact membership check can keep it out of rotation.
        var plan = _harness.WritePlan(
            RepositoryRoot(),
            text =>
                text.Replace(
                    $"install = [\"{_harness.Folder}/ej/ejnode\", \"install\", \"{{var.index}}\", \"{{version}}\"]",
                    $"install = \"{_harness.Folder}/ej/ejnode install {{var.index}} {{version}} && if [ {{node}} = ej2 ]; "
                        + $"then rm -rf {_harness.Folder}/ej/n{{var.index}}/spool/*; fi\"",
                    StringComparison.Ordinal
                )
        );

        var (code, _, stderr) = await RunAsync(plan);
        await Task.Delay(3000);
        await _load.StopAsync();
        output.WriteLine(_load.Summary());

        code.ShouldBe(1, stderr);
        stderr.ShouldContain("(verify ej2: status started");
        stderr.ShouldContain("ej2 out of rotation; ej1, ej3 serving");
        (await _harness.Cluster.CtlAsync(2, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        var xmpp = await _harness.ServerStatusAsync("be_xmpp");
        xmpp["ej1"].ShouldBe("UP");
        xmpp["ej3"].ShouldBe("UP");
        xmpp["ej2"].ShouldNotBe("UP");
        _load.Failed(LoadOperations.Connect).ShouldBe(0);
        _load.Failed(LoadOperations.Login).ShouldBe(0);
        _load.Failed(LoadOperations.Http).ShouldBe(0);
    }

    /// <summary>Evaluates an Erlang expression on node i through a hidden node, as the cluster's ctl script does.</summary>
    private async Task<string> EvalOnNodeAsync(int i, string expression)
    {
        var cluster = _harness.Cluster;
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
            $"mnesia:create_table(probe_only_on_ej2, [{{ram_copies, ['{_harness.Cluster.ErlangNode(2)}']}}])"
        );
        created.ShouldContain("{atomic,ok}");
        var plan = _harness.WritePlan(RepositoryRoot());

        var (code, _, stderr) = await RunAsync(plan);
        await _load.StopAsync();
        output.WriteLine(_load.Summary());

        code.ShouldBe(1, stderr);
        stderr.ShouldContain("ej2 holds the only copy of probe_only_on_ej2");
        stderr.ShouldNotContain("bosh");
        stderr.ShouldContain("nothing touched");
        for (var i = 1; i <= 3; i++)
        {
            (await _harness.Cluster.CtlAsync(i, "status")).Output.ShouldContain("ejabberd 23.01 is running");
        }

        (await _harness.ServerStatusAsync("be_xmpp")).Values.ShouldAllBe(s => s == "UP");
        _load.Failed(LoadOperations.Login).ShouldBe(0);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_failed_install_on_node_2_halts_with_it_out_of_rotation_and_the_others_serving()
    {
        var plan = _harness.WritePlan(
            RepositoryRoot(),
            text =>
                text.Replace(
                    $"install = [\"{_harness.Folder}/ej/ejnode\", \"install\", \"{{var.index}}\", \"{{version}}\"]",
                    $"install = \"if [ {{node}} = ej2 ]; then echo 'E: package ejabberd 24.0 not found' >&2; exit "
                        + $"100; fi; {_harness.Folder}/ej/ejnode install {{var.index}} {{version}}\"",
                    StringComparison.Ordinal
                )
        );

        var (code, _, stderr) = await RunAsync(plan);
        await Task.Delay(3000);
        await _load.StopAsync();
        output.WriteLine(_load.Summary());

        code.ShouldBe(1);
        stderr.ShouldContain("E: package ejabberd 24.0 not found");
        stderr.ShouldContain("ej2 out of rotation; ej1, ej3 serving");
        stderr.ShouldContain("rollingupgrade resume");
        var xmpp = await _harness.ServerStatusAsync("be_xmpp");
        xmpp["ej1"].ShouldBe("UP");
        xmpp["ej3"].ShouldBe("UP");
        xmpp["ej2"].ShouldStartWith("DOWN");
        (await _harness.Cluster.CtlAsync(1, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        (await _harness.Cluster.CtlAsync(3, "status")).Output.ShouldContain("ejabberd 23.01 is running");
        _load.Failed(LoadOperations.Connect).ShouldBe(0);
        _load.Failed(LoadOperations.Login).ShouldBe(0);
        _load.Failed(LoadOperations.Http).ShouldBe(0);
        _load.Failed(LoadOperations.Ping).ShouldBe(0);
    }
}

[CollectionDefinition("harness", DisableParallelization = true)]
public sealed class HarnessCollection;
