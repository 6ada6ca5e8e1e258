using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// During a rollback every command of every step (the product's start and status, not only
/// rollback_install) is given the previous version as {version}; going forward, the target.
/// Each node command below appends "NAME NODE VERSION" to a log, so the test reads what ran.
/// </summary>
public sealed class RollbackVersionTests
{
    private static string Log(LocalCluster cluster) => Path.Combine(cluster.Root, "commands.log");

    /// <summary>
    /// A rolling plan whose start, stop, install and rollback_install log the version they were given.
    /// </summary>
    private static string RollingPlan(LocalCluster cluster)
    {
        var log = Log(cluster);
        var path = cluster.WritePlan(
            install: $"echo install {{node}} {{version}} >> {log}; test ! -f {{var.dir}}/fail-install && echo "
                + $"{{version}} > {{var.dir}}/installed",
            extraUpgrade: $"from_version = \"1.0\"\nrollback_install = \"echo rollback_install {{node}} {{version}} "
                + $">> {log}; "
                + "test ! -f {var.dir}/fail-rollback && echo {version} > {var.dir}/installed\"\n\n[rollback]\npolicy "
                + "= \"rollback\""
        );
        var text = File.ReadAllText(path)
            .Replace(
                "start = \"cp",
                $"start = \"echo start {{node}} {{version}} >> {log}; cp",
                StringComparison.Ordinal
            )
            .Replace("stop = \"rm", $"stop = \"echo stop {{node}} {{version}} >> {log}; rm", StringComparison.Ordinal);
        File.WriteAllText(path, text);
        return path;
    }

    private static List<string> Lines(LocalCluster cluster) =>
        File.Exists(Log(cluster)) ? File.ReadAllLines(Log(cluster)).Where(l => l.Length > 0).ToList() : [];

    [Fact(Timeout = 60_000)]
    public async Task A_rolling_rollback_gives_every_command_the_previous_version()
    {
        using var cluster = new LocalCluster();
        var path = RollingPlan(cluster);
        File.WriteAllText(Path.Combine(cluster.NodeDir(2), "fail-install"), string.Empty);

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(1, result.Output + result.Error);
        (result.Output + result.Error).ShouldContain("ROLLED BACK");
        var lines = Lines(cluster);
        var failedInstall = lines.IndexOf("install n2 2.0");
        failedInstall.ShouldBeGreaterThan(0, string.Join('\n', lines));
        var rollback = lines.Skip(failedInstall + 1).ToList();
        rollback.ShouldContain("start n2 1.0");
        rollback.ShouldContain("start n1 1.0");
        rollback.ShouldContain("rollback_install n1 1.0");
        rollback.ShouldAllBe(l => l.EndsWith(" 1.0", StringComparison.Ordinal), string.Join('\n', rollback));
        lines.Take(failedInstall).ShouldAllBe(l => l.EndsWith(" 2.0", StringComparison.Ordinal));
        Enumerable.Range(1, 3).ShouldAllBe(i => cluster.Version(i) == "1.0" && cluster.Running(i));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_command_shows_the_argv_that_ran_and_its_last_output()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan(install: "echo preparing {version}; echo 'disk full on {node}' >&2; exit 7");

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(1);
        (result.Output + result.Error).ShouldContain("echo preparing 2.0; echo 'disk full on n1' >&2; exit 7");
        (result.Output + result.Error).ShouldContain("exited with 7: disk full on n1 | preparing 2.0");
        (result.Output + result.Error).ShouldNotContain("{version}");
    }

    [Fact(Timeout = 90_000)]
    public async Task Resuming_a_halted_rollback_gives_its_commands_the_previous_version()
    {
        using var cluster = new LocalCluster();
        var path = RollingPlan(cluster);
        File.WriteAllText(Path.Combine(cluster.NodeDir(2), "fail-install"), string.Empty);
        File.WriteAllText(Path.Combine(cluster.NodeDir(2), "fail-rollback"), string.Empty);

        var first = await CliRunner.RunAsync("run", path);

        first.ExitCode.ShouldBe(1);
        (first.Output + first.Error).ShouldContain("to continue the rollback");
        File.Delete(Path.Combine(cluster.NodeDir(2), "fail-rollback"));
        var before = Lines(cluster).Count;

        var resumed = await CliRunner.RunAsync("resume", path, "--retry-in-flight");

        resumed.ExitCode.ShouldBe(1, resumed.Output + resumed.Error);
        (resumed.Output + resumed.Error).ShouldContain("ROLLED BACK");
        var afterResume = Lines(cluster).Skip(before).ToList();
        afterResume.ShouldContain("rollback_install n2 1.0");
        afterResume.ShouldContain("start n2 1.0");
        afterResume.ShouldContain("start n1 1.0");
        afterResume.ShouldAllBe(l => l.EndsWith(" 1.0", StringComparison.Ordinal), string.Join('\n', afterResume));
        Enumerable.Range(1, 3).ShouldAllBe(i => cluster.Version(i) == "1.0" && cluster.Running(i));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_parallel_rollback_moves_traffic_back_and_gives_every_command_the_previous_version()
    {
        using var cluster = new LocalCluster(nodes: 4);
        var names = new[] { "n1", "n2", "g1", "g2" };
        await using var backends = new BackendServers(names.Select((n, i) => (n, $"127.0.0.{11 + i}")).ToList());
        using var haproxy = new HAProxyInstance(cluster.Root, "haproxy", backends, names);
        var log = Log(cluster);
        var text = ParallelPlan(cluster, haproxy.SocketPath, log);
        File.WriteAllText(cluster.PlanPath, text);

        var result = await CliRunner.RunAsync("run", cluster.PlanPath);

        result.ExitCode.ShouldBe(1, result.Output + result.Error);
        (result.Output + result.Error).ShouldContain("ROLLED BACK");
        var records = ReadJournal(cluster);
        var rollbackStarted = records.FindIndex(r => r.Type == JournalTypes.RollbackStarted);
        rollbackStarted.ShouldBeGreaterThan(0);
        records.Skip(rollbackStarted).Where(r => r.Type == JournalTypes.StepSucceeded).ShouldNotBeEmpty();
        var lines = Lines(cluster);
        lines.ShouldContain("provision g1 2.0");
        lines.ShouldContain("gate g1 2.0");
        lines.Count(l => l == "gate g1 2.0").ShouldBe(3, "before traffic, at 50% and at 100%, where it fails");

        // Moving traffic back runs no node command; any status read after the failed gate is on 1.0.
        var afterGate = lines.Skip(lines.LastIndexOf("gate g1 2.0") + 1).ToList();
        afterGate
            .Where(l => !l.StartsWith("status", StringComparison.Ordinal))
            .ShouldBeEmpty(string.Join('\n', afterGate));
        afterGate.ShouldAllBe(l => l.EndsWith(" 1.0", StringComparison.Ordinal), string.Join('\n', afterGate));
        var runtime = new RollingUpgrade.LoadBalancers.HAProxy.Runtime.HAProxyRuntimeClient(
            new RollingUpgrade.LoadBalancers.HAProxy.Runtime.HAProxyEndpoint(haproxy.SocketPath),
            TimeSpan.FromSeconds(5)
        );
        foreach (var backend in new[] { "be_http", "be_xmpp" })
        {
            (await runtime.ExecuteAsync($"get weight {backend}/g1", CancellationToken.None)).ShouldStartWith("0 ");
            (await runtime.ExecuteAsync($"get weight {backend}/n1", CancellationToken.None)).ShouldNotStartWith("0 ");
        }
    }

    private static List<JournalRecord> ReadJournal(LocalCluster cluster)
    {
        var state = new StateDirectory(Path.Combine(cluster.Root, ".rollingupgrade"), "local");
        return Journal.Read(state.JournalPath(state.CurrentRunId()!)).ToList();
    }

    /// <summary>
    /// Blue n1, n2 and green g1, g2 (folders n3, n4) behind HAProxy; the gate's third run on g1 (at 100%) fails.
    /// </summary>
    internal static string ParallelPlan(LocalCluster cluster, string socket, string log, bool gateFailsAt100 = true)
    {
        string Node(string table, string name, int index) =>
            $"[[{table}]]\nname = \"{name}\"\nhost = \"127.0.0.{10 + index}\"\nerlang_node = \"{name}@127.0.0."
            + $"{10 + index}\"\n"
            + $"vars = {{ dir = \"{cluster.NodeDir(index)}\" }}\nlb_ids = {{ edge = \"{name}\" }}\n";
        return $$"""
            [cluster]
            name = "local"

            {{Node("nodes", "n1", 1)}}
            {{Node("nodes", "n2", 2)}}
            [access]
            kind = "local"
            command_timeout = "20s"

            [product]
            kind = "generic"
            start_timeout = "20s"

            [product.commands]
            status = "echo status {node} {version} >> {{log}}; test -f {var.dir}/running"
            version = { run = "cat {var.dir}/version", parse = "regex", pattern = '^(\S+)' }
            stop = "rm -f {var.dir}/running"
            start = "cp {var.dir}/installed {var.dir}/version && touch {var.dir}/running"
            sessions = "echo 0"

            [[load_balancers]]
            name = "edge"
            kind = "haproxy"
            sockets = ["{{socket}}"]
            backends = ["be_http", "be_xmpp"]
            ready_timeout = "3s"

            [[gates]]
            name = "smoke"
            kind = "command"
            attempts = 1
            run = "echo gate {node} {version} >> {{log}}; {{(
                gateFailsAt100 ? "test {node} != g1 || test $(grep -c 'gate g1' " + log + ") -lt 3" : "true"
            )}}"

            [upgrade]
            target_version = "2.0"
            from_version = "1.0"
            backup_config = false

            [strategy]
            kind = "parallel"
            provision = ["echo provision {node} {version} >> {{log}}; echo {version} > {var.dir}/installed; rm -f {var.dir}/running"]
            traffic_steps = [50, 100]
            step_gates = ["smoke"]

            {{Node("strategy.green_nodes", "g1", 3)}}
            {{Node("strategy.green_nodes", "g2", 4)}}
            """;
    }
}
