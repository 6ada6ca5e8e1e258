using RollingUpgrade.Execution;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Execution;

/// <summary>
/// start_timeout and gate timeouts run on the injected clock: on the fake clock they fire without real waiting.
/// </summary>
public sealed class ClockTimeoutTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_start_that_hangs_fails_after_start_timeout_on_the_fake_clock()
    {
        var text = TestPlans
            .Rolling()
            .Replace(
                "config_path = \"/etc/app.toml\"",
                "config_path = \"/etc/app.toml\"\nstart_timeout = \"7m\"",
                StringComparison.Ordinal
            );
        using var run = new RunHarness(text);
        run.World.Nodes["n1"].HangStart = true;
        var started = run.Clock.GetUtcNow();

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("n1 did not report started within 7m");
        (run.Clock.GetUtcNow() - started).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMinutes(7));
        (run.Clock.GetUtcNow() - started).ShouldBeLessThan(TimeSpan.FromMinutes(9));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_gate_that_never_answers_fails_after_its_timeout_on_the_fake_clock()
    {
        const string gates =
            "[[gates]]\nname = \"c2s\"\nkind = \"tcp\"\naddress = \"{host}:5222\"\ntimeout = \"90s\"\nattempts = 2\n";
        using var run = new RunHarness(TestPlans.Rolling(gates: gates));
        run.Adapters.HangingProbeNodes.Add("n1");
        var started = run.Clock.GetUtcNow();

        var outcome = await run.RunAsync();

        outcome.Status.ShouldBe(RunStatus.Halted);
        outcome.Summary.ShouldContain("gate 'c2s' failed on n1: no answer within 1m30s");
        run.Adapters.ProbeCalls.ShouldBe(2);
        (run.Clock.GetUtcNow() - started).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMinutes(3));
    }
}
