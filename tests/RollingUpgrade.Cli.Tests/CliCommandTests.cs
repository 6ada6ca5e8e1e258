using System.Text.Json;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Tests;

public sealed class CliCommandTests
{
    internal static string Example(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir.FullName, "deploy", "examples", name);
    }

    [Fact(Timeout = 30_000)]
    public async Task Validate_accepts_the_examples()
    {
        var result = await CliRunner.RunAsync("validate", Example("rolling-mongooseim.toml"), "--offline");

        result.ExitCode.ShouldBe(0, result.Error);
        result.Output.ShouldContain("valid (3 nodes, 1 load balancer(s), rolling strategy, target 6.3.0)");
    }

    [Fact(Timeout = 30_000)]
    public async Task Validate_reports_every_error_with_its_place_and_exits_2()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        File.WriteAllText(
            path,
            File.ReadAllText(path)
                .Replace("capacity_nodes = 2", "capacity_nodes = 2\nbatchsize = 1", StringComparison.Ordinal)
                .Replace("name = \"n2\"", "name = \"n1\"", StringComparison.Ordinal)
        );

        var result = await CliRunner.RunAsync("validate", path);

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain($"{path}:");
        result.Error.ShouldContain("unknown key 'strategy.batchsize'; did you mean 'batch_size'?");
        result.Error.ShouldContain("node name 'n1' is already used by another node");
        result.Error.ShouldContain("2 error(s); nothing was touched");
    }

    [Fact(Timeout = 30_000)]
    public async Task Validate_in_json_gives_one_object_per_problem()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        File.WriteAllText(
            path,
            File.ReadAllText(path).Replace("kind = \"rolling\"", "kind = \"rollin\"", StringComparison.Ordinal)
        );

        var result = await CliRunner.RunAsync("validate", path, "--output", "json");

        result.ExitCode.ShouldBe(2);
        var line = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        using var json = JsonDocument.Parse(line);
        json.RootElement.GetProperty("type").GetString().ShouldBe("error");
        json.RootElement.GetProperty("message")
            .GetString()
            .ShouldBe("'strategy.kind' is 'rollin'; did you mean 'rolling'?");
        json.RootElement.GetProperty("line").GetInt32().ShouldBeGreaterThan(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Plan_is_a_dry_run_that_touches_nothing()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();

        var result = await CliRunner.RunAsync("plan", path);

        result.ExitCode.ShouldBe(0, result.Error);
        result.Output.ShouldContain("1. check the cluster");
        result.Output.ShouldContain("install 2.0 on n1 [serving 2/3]");
        result.Output.ShouldContain("if this fails: halt with n1 out of rotation");
        // The forecast: the install is bounded by access.command_timeout (20s), the drain by its timeout (5s).
        result.Output.ShouldContain("install 2.0 on n1 [serving 2/3] (~20s, at most 20s)");
        result.Output.ShouldContain("\nForecast: ~");
        cluster.Version(1).ShouldBe("1.0");
        Directory.Exists(Path.Combine(cluster.Root, ".rollingupgrade")).ShouldBeFalse();
    }

    [Fact(Timeout = 30_000)]
    public async Task Plan_says_the_drain_defaults_a_plan_without_a_drain_table_gets()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var text = File.ReadAllText(path);
        var drain = text.IndexOf("[strategy.drain]", StringComparison.Ordinal);
        File.WriteAllText(path, text[..drain]);

        var result = await CliRunner.RunAsync("plan", path);

        result.ExitCode.ShouldBe(0, result.Error);
        result.Output.ShouldContain(
            "drain: wait up to 2m for zero connections (3 readings 1s apart), then evict at 10/s; evicted sessions "
                + "must come back on the serving nodes (99% within 1m) [defaults: the plan has no [strategy.drain]]"
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Unknown_command_and_missing_plan_are_bad_input()
    {
        (await CliRunner.RunAsync("upgrade-everything")).ExitCode.ShouldBe(2);
        (await CliRunner.RunAsync("run")).ExitCode.ShouldBe(2);
        var missing = await CliRunner.RunAsync("run", "/nonexistent/plan.toml");
        missing.ExitCode.ShouldBe(2);
        missing.Error.ShouldContain("plan file not found");
    }

    [Fact(Timeout = 60_000)]
    public async Task Run_upgrades_a_local_cluster_and_journals_every_step()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        Enumerable.Range(1, 3).ShouldAllBe(i => cluster.Version(i) == "2.0" && cluster.Running(i));
        result.Output.ShouldContain("SUCCEEDED");
        var state = new StateDirectory(Path.Combine(cluster.Root, ".rollingupgrade"), "local");
        var journal = Journal.Read(state.JournalPath(state.CurrentRunId()!));
        journal
            .Count(r => r.Type == JournalTypes.StepSucceeded)
            .ShouldBe(journal.Count(r => r.Type == JournalTypes.StepStarted));
        journal.Last().Data!["outcome"].ShouldBe("succeeded");
        File.Exists(state.LockPath).ShouldBeFalse();

        var again = await CliRunner.RunAsync("resume", path);
        again.ExitCode.ShouldBe(0);
        again.Output.ShouldContain("already finished: succeeded");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_install_halts_with_exit_1_and_says_what_to_do()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan(
            install: "if [ {node} = n2 ]; then echo 'E: no such package' >&2; exit 3; fi; echo {version} > "
                + "{var.dir}/installed"
        );

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("E: no such package");
        result.Error.ShouldContain("n2 out of rotation; n1, n3 serving");
        result.Error.ShouldContain("rollingupgrade resume");
        cluster.Version(1).ShouldBe("2.0");
        cluster.Running(2).ShouldBeFalse();
        cluster.Version(3).ShouldBe("1.0");

        File.WriteAllText(path, File.ReadAllText(path));
        var status = await CliRunner.RunAsync("status", path);
        status.ExitCode.ShouldBe(0);
        status.Output.ShouldContain("halted");
        status.Output.ShouldContain("n2: stopped");
    }

    [Fact(Timeout = 60_000)]
    public async Task Secrets_named_by_the_plan_never_reach_output_or_journal()
    {
        using var cluster = new LocalCluster();
        const string secret = "s3cr3t-Passw0rd-value";
        Environment.SetEnvironmentVariable("RU_TEST_GATE_PASSWORD", secret);
        var gates =
            "[[gates]]\nname = \"login\"\nkind = \"command\"\nrun = \"true\"\n\n[[gates]]\nname = \"xmpp\"\nkind = "
            + "\"xmpp-login\"\naddress = \"{host}:5222\"\nuser = \"probe\"\npassword_env = "
            + "\"RU_TEST_GATE_PASSWORD\"\ndomain = \"localhost\"\n";
        var path = cluster.WritePlan(install: "echo \"token=$RU_TEST_GATE_PASSWORD\" >&2; exit 1", gates: gates);

        var result = await CliRunner.RunAsync("run", path, "--output", "json");

        result.ExitCode.ShouldBe(1);
        result.Output.ShouldContain("token=***");
        result.Output.ShouldNotContain(secret);
        result.Error.ShouldNotContain(secret);
        foreach (
            var file in Directory.GetFiles(
                Path.Combine(cluster.Root, ".rollingupgrade"),
                "*",
                SearchOption.AllDirectories
            )
        )
        {
            File.ReadAllText(file).ShouldNotContain(secret);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_is_refused_while_another_holds_the_lock_and_a_stale_lock_is_reported()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        var state = new StateDirectory(Path.Combine(cluster.Root, ".rollingupgrade"), "local");
        Directory.CreateDirectory(state.ClusterFolder);
        File.WriteAllText(
            state.LockPath,
            JsonSerializer.Serialize(
                new RunLock.Holder(Environment.ProcessId, Environment.MachineName, "live-run", DateTimeOffset.UtcNow)
            )
        );

        var live = await CliRunner.RunAsync("run", path);
        live.ExitCode.ShouldBe(3);
        live.Error.ShouldContain("another run holds local");

        File.WriteAllText(
            state.LockPath,
            JsonSerializer.Serialize(
                new RunLock.Holder(DeadPid(), Environment.MachineName, "dead-run", DateTimeOffset.UtcNow)
            )
        );
        var stale = await CliRunner.RunAsync("run", path);
        stale.ExitCode.ShouldBe(3);
        stale.Error.ShouldContain("which is no longer running");
        stale.Error.ShouldContain("--take-over-stale-lock");
        cluster.Version(1).ShouldBe("1.0");

        var taken = await CliRunner.RunAsync("run", path, "--take-over-stale-lock");
        taken.ExitCode.ShouldBe(0, taken.Error);
        cluster.Version(1).ShouldBe("2.0");
    }

    private static int DeadPid()
    {
        using var process = System.Diagnostics.Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }
}
