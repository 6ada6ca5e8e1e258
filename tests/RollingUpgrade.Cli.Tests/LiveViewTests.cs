using Microsoft.Extensions.Time.Testing;
using RollingUpgrade.Cli.Rendering;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Plans;
using Spectre.Console.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The live view on Spectre's test console: the table of nodes follows the run's events (state, version, connections
/// per balancer, sessions), the step says what it waits for and the time left, and no warning or failure is hidden.
/// </summary>
public sealed class LiveViewTests
{
    private const string PlanText = """
        [cluster]
        name = "live"

        [[nodes]]
        name = "n1"
        host = "127.0.0.1"
        erlang_node = "a@n1"
        lb_ids = { edge = "n1", proxy = "n1" }

        [[nodes]]
        name = "n2"
        host = "127.0.0.2"
        erlang_node = "a@n2"
        lb_ids = { edge = "n2", proxy = "n2" }

        [access]
        kind = "local"

        [product]
        kind = "generic"
        [product.commands]
        status = ["true"]
        stop = ["true"]
        start = ["true"]

        [[load_balancers]]
        name = "edge"
        kind = "haproxy"
        sockets = ["/run/edge.sock"]
        backends = ["be"]

        [[load_balancers]]
        name = "proxy"
        kind = "yarp"
        admin_url = "http://127.0.0.1:9"
        cluster = "c"

        [upgrade]
        target_version = "2.0"
        from_version = "1.0"
        install = "true"

        [strategy]
        kind = "rolling"
        capacity_nodes = 1
        """;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero));

    [Fact(Timeout = 30_000)]
    public async Task The_table_follows_a_drain_its_counts_and_time_left_and_keeps_the_warnings()
    {
        var console = new TestConsole().Interactive().Width(160);
        var plan = PlanLoader.Load(PlanText, "live.toml").Plan!;
        var view = new LiveView(console, new SecretRedactor(), plan, _time);
        var at = _time.GetUtcNow();

        var outcome = await view.RunAsync(async () =>
        {
            view.OnEvent(Event(RunEventTypes.StepStarted, "drain n1", 1, "Drain", "n1"));
            view.OnEvent(Event(RunEventTypes.StepSucceeded, "drain n1", 1, "Drain", "n1"));
            view.OnEvent(Event(RunEventTypes.StepStarted, "wait for n1's connections to end", 2, "WaitDrained", "n1"));
            view.OnEvent(
                Event(RunEventTypes.Sample, "n1: 7 connection(s)", 2, null, "n1") with
                {
                    Data = new Dictionary<string, string>
                    {
                        ["kind"] = "WaitDrained",
                        ["node"] = "n1",
                        ["connections"] = "7",
                        ["evicted"] = "3",
                        ["sessions"] = "6",
                        ["n1@edge"] = "4",
                        ["n1@proxy"] = "3",
                        ["n2@edge"] = "11",
                        ["n2@proxy"] = "12",
                    },
                }
            );
            view.OnEvent(
                new RunEvent(at, RunEventTypes.Heartbeat, "still waiting for n1's live connections; 10s elapsed")
                {
                    Step = 2,
                    TotalSteps = 9,
                    Node = "n1",
                    Data = new Dictionary<string, string> { ["left_s"] = "20" },
                }
            );
            view.OnEvent(
                Event(RunEventTypes.Warning, "n1 still has 7 live connection(s); evicting 10/s", 2, null, "n1")
            );
            var during = console.Output;
            during.ShouldContain("step 2/9");
            during.ShouldContain("wait for n1's connections to end");
            during.ShouldContain("still waiting for n1's live connections");
            during.ShouldContain("deadline in 0:20");
            during.ShouldContain("evicting n1: 3 evicted, 7 remaining");
            during.ShouldContain("conns @ edge");
            during.ShouldContain("conns @ proxy");
            Row(during, "n1").ShouldContain("draining");
            // edge 4, proxy 3, the node's own 6 sessions.
            Row(during, "n1").ShouldMatch(@"│\s+4 │\s+3 │\s+6 │\s*$");
            Row(during, "n2").ShouldContain("12");
            Row(during, "n2").ShouldContain("serving");

            view.OnEvent(Event(RunEventTypes.StepStarted, "start n1", 3, "Start", "n1"));
            view.OnEvent(Event(RunEventTypes.StepSucceeded, "start n1", 3, "Start", "n1"));
            view.OnEvent(Event(RunEventTypes.StepStarted, "verify n2", 4, "VerifyNode", "n2"));
            view.OnEvent(Event(RunEventTypes.StepFailed, "n2 runs 1.0, not 2.0", 4, "VerifyNode", "n2"));
            return 1;
        });

        outcome.ShouldBe(1);
        var end = console.Output;
        Row(end, "n1").ShouldContain("2.0");
        Row(end, "n2").ShouldContain("FAILED (verify node)");
        // After the view: every warning and failure again, as plain lines.
        var after = end[end.LastIndexOf("last events", StringComparison.Ordinal)..];
        after.ShouldContain("warning: n1 still has 7 live connection(s); evicting 10/s");
        after.ShouldContain("FAILED: n2 runs 1.0, not 2.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task Secrets_never_reach_the_view()
    {
        var console = new TestConsole().Interactive().Width(160);
        var redactor = new SecretRedactor();
        redactor.Add("hunter2-secret");
        var view = new LiveView(console, redactor, PlanLoader.Load(PlanText, "live.toml").Plan!, _time);

        await view.RunAsync(() =>
        {
            view.OnEvent(Event(RunEventTypes.StepStarted, "gate with hunter2-secret", 1, "RunGates", null));
            view.OnEvent(Event(RunEventTypes.Warning, "token hunter2-secret refused", 1, null, null));
            return Task.FromResult(0);
        });

        console.Output.ShouldNotContain("hunter2-secret");
        console.Output.ShouldContain("token *** refused");
    }

    private RunEvent Event(string type, string message, int step, string? kind, string? node) =>
        new(_time.GetUtcNow(), type, message)
        {
            Step = step,
            TotalSteps = 9,
            Node = node,
            Phase = "forward",
            Data = kind is null ? null : new Dictionary<string, string> { ["kind"] = kind },
        };

    /// <summary>The table row of a node in the text (the last one drawn).</summary>
    private static string Row(string text, string node) =>
        text.Split('\n').Last(l => l.TrimStart().StartsWith($"│ {node} ", StringComparison.Ordinal));
}
