using System.Text.RegularExpressions;

namespace RollingUpgrade.Tests;

/// <summary>What a run prints off a terminal while a step takes long, and with --quiet.</summary>
public sealed class HeartbeatAndQuietTests : IDisposable
{
    private readonly LocalCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task A_step_that_takes_long_prints_a_heartbeat_line_every_10_s()
    {
        File.WriteAllText(Path.Combine(_cluster.NodeDir(1), "slow"), string.Empty);
        var plan = _cluster.WritePlan(
            install: "if [ -f {var.dir}/slow ]; then sleep 12; fi; echo {version} > {var.dir}/installed"
        );

        var result = await CliRunner.RunAsync("run", plan);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        Regex
            .IsMatch(
                result.Output,
                // At 10 s, printed within a second or two of it on a loaded machine.
                @"^\d\d:\d\d:\d\d \[\d+/\d+\] still running: install 2\.0 on n1; 1[012]s elapsed$",
                RegexOptions.Multiline
            )
            .ShouldBeTrue(result.Output);
        Regex.Matches(result.Output, "still running").Count.ShouldBe(1, result.Output);
    }

    [Fact(Timeout = 120_000)]
    public async Task Quiet_prints_only_the_outcome_or_the_failure()
    {
        var plan = _cluster.WritePlan();

        var ok = await CliRunner.RunAsync("run", plan, "--quiet");

        ok.ExitCode.ShouldBe(0, ok.Output + ok.Error);
        ok.Output.Trim()
            .Split('\n')
            .ShouldBe(["SUCCEEDED: local runs 2.0; every step verified", "next: nothing; the run is complete"]);

        using var failing = new LocalCluster();
        var broken = failing.WritePlan(install: "echo no disk space >&2; exit 3");
        var halted = await CliRunner.RunAsync("run", broken, "-q");

        halted.ExitCode.ShouldBe(1);
        var lines = (halted.Output + halted.Error).Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldContain(l => l.Contains(" FAILED: ") && l.Contains("no disk space"));
        lines.ShouldContain(l => l.StartsWith("HALTED: "));
        lines.ShouldNotContain(l => l.EndsWith(" done") || l.EndsWith(" ..."));
    }
}
