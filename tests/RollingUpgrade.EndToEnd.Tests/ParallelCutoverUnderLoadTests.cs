using RollingUpgrade.Cli;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// Blue-green on real components: two ejabberd clusters of two nodes (separate cookies and mnesia
/// clusters), HAProxy in front, nodes over sshd, 30 XMPP clients and 20 HTTP requests per second.
/// </summary>
[Collection("harness")]
public sealed class ParallelCutoverUnderLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ParallelHarness _harness = null!;
    private LoadDriver _load = null!;

    public async Task InitializeAsync()
    {
        _harness = await ParallelHarness.StartAsync(users: 30);
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

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    private IReadOnlyList<JournalRecord> Journal() =>
        Journaling.Journal.Read(
            Directory
                .GetFiles(Path.Combine(_harness.Folder, ".rollingupgrade", "ejabberd-parallel", "runs"), "*.jsonl")
                .Single()
        );

    private void NoFailedClientOperations()
    {
        output.WriteLine(_load.Summary());
        _load.Failed(LoadOperations.Connect).ShouldBe(0);
        _load.Failed(LoadOperations.Login).ShouldBe(0);
        _load.Failed(LoadOperations.Http).ShouldBe(0);
        _load.Failed(LoadOperations.Ping).ShouldBe(0);
        foreach (var cut in _load.Events.Where(e => e.Operation == LoadOperations.Disconnect))
        {
            _load.Events.ShouldContain(e =>
                e.Client == cut.Client && e.Operation == LoadOperations.Login && e.Succeeded && e.At > cut.At
            );
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Cutover_moves_every_client_to_the_new_cluster_and_retires_the_old_one()
    {
        var gates =
            "[[gates]]\nname = \"login\"\nkind = \"xmpp-login\"\naddress = \"{host}:5222\"\nuser = "
            + "\"user1\"\npassword_env = \"RU_E2E_LOGIN_PASSWORD\"\ndomain = \"localhost\"\n\n[[gates]]\nname = "
            + "\"errors\"\nkind = \"lb-errors\"\n";
        Environment.SetEnvironmentVariable("RU_E2E_LOGIN_PASSWORD", "pw-user1");
        var plan = _harness.WritePlan(gates);

        var (code, stdout, _) = await RunAsync("run", plan);
        await Task.Delay(3000);
        await _load.StopAsync();

        code.ShouldBe(0);
        stdout.ShouldContain("SUCCEEDED");
        // Every client started on the old cluster and was cut exactly once, when it was retired, landing on 24.0.
        var cuts = _load.Events.Where(e => e.Operation == LoadOperations.Disconnect).ToList();
        cuts.Select(c => c.Client).Distinct().Count().ShouldBe(30);
        cuts.GroupBy(c => c.Client).ShouldAllBe(g => g.Count() == 1);
        foreach (var cut in cuts)
        {
            _load
                .Events.Where(e =>
                    e.Client == cut.Client && e.Operation == LoadOperations.Login && e.Succeeded && e.At > cut.At
                )
                .ShouldAllBe(e => e.Detail == "24.0", $"client {cut.Client} came back on the old version");
        }

        _harness.Blue.IsAlive(1).ShouldBeFalse();
        _harness.Blue.IsAlive(2).ShouldBeFalse();
        (await _harness.Green.CtlAsync(1, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        var journal = Journal();
        journal
            .Where(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("ShiftTraffic", StringComparison.Ordinal)
            )
            .Select(r => r.StepId)
            .ShouldBe([
                "ShiftTraffic:gr1+gr2:haproxy:10",
                "ShiftTraffic:gr1+gr2:haproxy:50",
                "ShiftTraffic:gr1+gr2:haproxy:100",
            ]);
        var lastBlueSession = journal
            .Last(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("WaitDrained", StringComparison.Ordinal)
            )
            .At;
        var blueStopped = journal
            .Last(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("StopBlue", StringComparison.Ordinal)
            )
            .At;
        output.WriteLine(
            $"FIGURE last blue connection closed -> blue stopped: "
                + $"{(blueStopped - lastBlueSession).TotalMilliseconds:0} ms"
        );
        var status = await RunAsync("status", plan);
        status.Output.ShouldContain("rollback: no longer possible");
        NoFailedClientOperations();
    }

    [Fact(Timeout = 300_000)]
    public async Task A_gate_failing_at_fifty_percent_returns_all_traffic_to_the_old_cluster()
    {
        // The canary passes its first four checks (each green node before traffic, then each at 10%) and fails at 50%.
        var counter = Path.Combine(_harness.Folder, "gate-calls");
        var gates =
            $"[[gates]]\nname = \"canary\"\nkind = \"command\"\nrun = \"n=$(cat {counter} 2>/dev/null || echo 0); "
            + $"echo $((n+1)) > {counter}; [ $n -lt 4 ]\"\n";
        var plan = _harness.WritePlan(gates, "step_gates = [\"canary\"]");

        var (code, _, stderr) = await RunAsync("run", plan);
        await Task.Delay(3000);
        await _load.StopAsync();

        code.ShouldBe(1);
        stderr.ShouldContain("ROLLED BACK");
        stderr.ShouldContain("(gates at 50% green");
        stderr.ShouldContain("gate 'canary' failed");
        var xmpp = await StatusAsync();
        xmpp["gr1"].Weight.ShouldBe("0");
        xmpp["gr2"].Weight.ShouldBe("0");
        xmpp["bl1"].Status.ShouldBe("UP");
        xmpp["gr1"].Status.ShouldStartWith("DRAIN");
        var journal = Journal();
        var failedAt = journal.First(r => r.Type == JournalTypes.StepFailed).At;
        var backOnBlue = journal
            .First(r =>
                r.Phase == "rollback"
                && r.Type == JournalTypes.StepSucceeded
                && r.StepId!.StartsWith("ShiftTraffic", StringComparison.Ordinal)
            )
            .At;
        output.WriteLine(
            $"FIGURE gate failed -> traffic fully back on blue: {(backOnBlue - failedAt).TotalMilliseconds:0} ms"
        );
        (backOnBlue - failedAt).ShouldBeLessThan(TimeSpan.FromSeconds(2));
        NoFailedClientOperations();
    }

    private async Task<Dictionary<string, (string Status, string Weight)>> StatusAsync()
    {
        var text = await _harness.HAProxy.CommandAsync("show stat");
        return text.Split('\n')
            .Where(l =>
                l.StartsWith("be_xmpp,", StringComparison.Ordinal) && !l.Contains(",BACKEND,", StringComparison.Ordinal)
            )
            .Select(l => l.Split(','))
            .ToDictionary(f => f[1], f => (f[17], f[18]));
    }
}
