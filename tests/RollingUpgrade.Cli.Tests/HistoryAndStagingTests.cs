using System.Text.Json;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Tests;

/// <summary>
/// `history` lists every run of a cluster with who, why, versions and outcome; the journal keeps the plan text; a
/// production cluster with cluster.requires_staging starts only after the same upgrade succeeded on staging, unless
/// the operator overrides it with a reason (recorded). Both clusters share one state folder.
/// </summary>
public sealed class HistoryAndStagingTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("ru-state-").FullName;
    private readonly LocalCluster _staging = new();
    private readonly LocalCluster _production = new();

    public void Dispose()
    {
        _staging.Dispose();
        _production.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private static string Renamed(string path, string cluster, string extra = "")
    {
        File.WriteAllText(
            path,
            File.ReadAllText(path)
                .Replace(
                    "[cluster]\nname = \"local\"",
                    $"[cluster]\nname = \"{cluster}\"\n{extra}",
                    StringComparison.Ordinal
                )
        );
        return path;
    }

    private string StagingPlan() => Renamed(_staging.WritePlan(), "staging");

    private string ProductionPlan(string extraUpgrade = "") =>
        Renamed(
            _production.WritePlan(extraUpgrade: extraUpgrade),
            "production",
            "environment = \"production\"\nrequires_staging = \"staging\"\nstaging_max_age = \"14d\""
        );

    private Task<CliResult> Cli(params string[] args) => CliRunner.RunAsync([.. args, "--state-dir", _state]);

    [Fact(Timeout = 120_000)]
    public async Task History_lists_each_run_with_operator_reason_versions_and_outcome_and_the_journal_keeps_the_plan()
    {
        var plan = StagingPlan();

        var run = await Cli("run", plan, "--reason", "ticket OPS-42: quarterly upgrade");
        run.ExitCode.ShouldBe(0, run.Output + run.Error);

        var history = await Cli("history", plan);
        history.ExitCode.ShouldBe(0, history.Error);
        history.Output.ShouldContain("1 run(s) of staging");
        history.Output.ShouldContain("rolling  1.0 -> 2.0  succeeded");
        history.Output.ShouldContain("reason: ticket OPS-42: quarterly upgrade");
        history.Output.ShouldContain($"{Environment.UserName}@{Environment.MachineName}");

        var json = await Cli("history", plan, "--output", "json");
        var line = JsonDocument.Parse(json.Output.Trim()).RootElement;
        line.GetProperty("outcome").GetString().ShouldBe("succeeded");
        line.GetProperty("from_version").GetString().ShouldBe("1.0");
        line.GetProperty("to_version").GetString().ShouldBe("2.0");
        line.GetProperty("duration_seconds").GetDouble().ShouldBeGreaterThan(0);

        var state = new StateDirectory(_state, "staging");
        var started = Journal.Read(state.JournalPath(state.CurrentRunId()!))[0];
        started.Data!["plan_text"].ShouldBe(File.ReadAllText(plan));
        started.Data["operator"].ShouldBe($"{Environment.UserName}@{Environment.MachineName}");
    }

    [Fact(Timeout = 180_000)]
    public async Task Production_waits_for_the_same_upgrade_on_staging_and_plan_says_whether_the_gate_passes()
    {
        var production = ProductionPlan(extraUpgrade: "from_version = \"1.0\"");

        var preview = await Cli("plan", production, "--offline");
        preview.Output.ShouldContain("staging first: NOT MET: no succeeded run of 1.0 -> 2.0 on staging");
        var refused = await Cli("run", production);
        refused.ExitCode.ShouldBe(1, refused.Output + refused.Error);
        (refused.Output + refused.Error).ShouldContain(
            "production requires a succeeded run of 1.0 -> 2.0 on staging within 14d"
        );
        (refused.Output + refused.Error).ShouldContain("Halted with nothing touched");
        Enumerable.Range(1, 3).ShouldAllBe(i => _production.Version(i) == "1.0");

        (await Cli("run", StagingPlan())).ExitCode.ShouldBe(0);

        (await Cli("plan", production, "--offline")).Output.ShouldContain("staging first: met by run ");
        var run = await Cli("run", production);
        run.ExitCode.ShouldBe(0, run.Output + run.Error);
        (run.Output + run.Error).ShouldContain("staging first: run ");
        Enumerable.Range(1, 3).ShouldAllBe(i => _production.Version(i) == "2.0");
    }

    [Fact(Timeout = 120_000)]
    public async Task Overriding_the_staging_gate_needs_a_reason_and_is_recorded()
    {
        var production = ProductionPlan();

        var bare = await Cli("run", production, "--override-staging");
        bare.ExitCode.ShouldBe(2);
        bare.Error.ShouldContain("--override-staging needs --reason TEXT");

        var run = await Cli("run", production, "--override-staging", "--reason", "hotfix CVE-2026-0001");
        run.ExitCode.ShouldBe(0, run.Output + run.Error);
        (run.Output + run.Error).ShouldContain("overridden by");

        var history = await Cli("history", production);
        history.Output.ShouldContain("staging gate overridden: hotfix CVE-2026-0001");
    }
}
