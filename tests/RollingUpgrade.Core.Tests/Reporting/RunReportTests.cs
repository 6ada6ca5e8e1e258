using System.Text.RegularExpressions;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Reporting;
using RollingUpgrade.Tests.Fakes;

namespace RollingUpgrade.Tests.Reporting;

/// <summary>
/// The report is made from the journal alone: every step attempt, the drain samples (connections per node, the
/// eviction), the weights of a parallel run, the mixed-version window, and how the run ended.
/// </summary>
public sealed partial class RunReportTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_rolling_run_with_an_eviction_reports_its_steps_samples_pace_and_mixed_window()
    {
        using var run = new RunHarness(TestPlans.Rolling(onTimeout: "evict", timeout: "10s"));
        for (var i = 0; i < 4; i++)
        {
            run.World.Nodes["n1"].SessionEnds.Add(DateTimeOffset.MaxValue);
        }

        var outcome = await run.RunAsync();
        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);

        var report = RunReport.FromJournal(outcome.RunId!, "test", run.Journal())!;

        report.Summary.Outcome.ShouldBe("succeeded");
        report.Nodes.ShouldBe(["n1", "n2", "n3"]);
        report.Steps.Count.ShouldBe(run.Journal().Count(r => r.Type == JournalTypes.StepStarted));
        report.Steps.ShouldAllBe(s => s.Outcome == "succeeded" && s.Ended != null);
        report.Steps.ShouldContain(s => s.Kind == "Drain" && s.Nodes.SequenceEqual(new[] { "n1" }));
        var n1 = report.ConnectionsOf("n1");
        n1[0].Connections.ShouldBe(4);
        // Its drain ends at zero; its evicted clients reconnected to n2 and n3, and theirs later to n1.
        report.Samples.Last(s => s.Node == "n1").Connections.ShouldBe(0);
        n1[^1].Connections.ShouldBeGreaterThan(0);
        report.Samples.Where(s => s.Node == "n1").Max(s => s.Evicted).ShouldBe(4);
        report.EvictionRate.ShouldBe(2);
        report.MixedFrom.ShouldNotBeNull();
        report.MixedTo.ShouldNotBeNull();
        report.MixedAtEnd.ShouldBeFalse();
        (report.MixedTo > report.MixedFrom).ShouldBeTrue();

        var html = ReportHtml.Render(report);
        html.ShouldStartWith("<!DOCTYPE html>");
        html.ShouldNotContain("<script", Case.Insensitive);
        html.ShouldNotContain(" src=", Case.Insensitive);
        html.ShouldNotContain("href=", Case.Insensitive);
        Regex.Matches(html, "http").Count.ShouldBe(Regex.Matches(html, "xmlns=\"http://www.w3.org/2000/svg\"").Count);
        Points(html, "timeline").ShouldBe(report.Steps.Count);
        Points(html, "connections").ShouldBeGreaterThan(3);
        Points(html, "eviction").ShouldBeGreaterThan(1);
        html.ShouldContain("data-series=\"n1\"");
        html.ShouldContain("planned 2/s");
        html.ShouldContain(">evict n1<");
        html.ShouldContain(">drain n1<");
        html.ShouldContain(">stop n1<");
        html.ShouldContain("Both versions served from");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_halted_run_says_what_failed_and_what_to_do_next_and_is_still_mixed()
    {
        using var run = new RunHarness(TestPlans.Rolling());
        run.World.Nodes["n2"].FailStart = true;

        var outcome = await run.RunAsync();
        outcome.Status.ShouldBe(RunStatus.Halted, outcome.Summary);

        var report = RunReport.FromJournal(outcome.RunId!, "test", run.Journal())!;
        report.Summary.Outcome.ShouldBe("halted");
        report.Steps.ShouldContain(s => s.Outcome == "failed" && s.Nodes.Contains("n2"));
        report.Next.ShouldNotBeNullOrWhiteSpace();
        report.MixedAtEnd.ShouldBeTrue();
        var html = ReportHtml.Render(report);
        html.ShouldContain("class=\"next\"");
        html.ShouldContain("rollingupgrade resume");
        html.ShouldContain("fill=\"#e53935\"");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_parallel_run_reports_the_traffic_weights_step_by_step()
    {
        using var run = new RunHarness(TestPlans.Parallel(), TestPlans.ParallelWorld);

        var outcome = await run.RunAsync();
        outcome.Status.ShouldBe(RunStatus.Succeeded, outcome.Summary);

        var report = RunReport.FromJournal(outcome.RunId!, "test", run.Journal())!;
        report.Weights.Select(w => w.GreenPercent).ShouldBe([0, 10, 50, 100]);
        report.GreenNodes.ShouldNotBeEmpty();
        report.MixedFrom.ShouldBe(report.Weights[1].At);
        report.MixedTo.ShouldBe(report.Weights[3].At);
        var html = ReportHtml.Render(report);
        Points(html, "weights").ShouldBe(2 * 5);
    }

    [Fact]
    public void A_journal_with_hostile_text_is_escaped_and_numbers_do_not_take_the_local_decimal_comma()
    {
        var at = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        JournalRecord[] records =
        [
            new()
            {
                Type = JournalTypes.RunStarted,
                At = at,
                Data = new()
                {
                    ["cluster"] = "<b>c</b>",
                    ["strategy"] = "rolling",
                    ["to_version"] = "2\"><script>",
                },
            },
            new()
            {
                Type = JournalTypes.StepStarted,
                At = at.AddSeconds(1.5),
                Step = 1,
                Phase = "forward",
                Message = "drain <img src=x onerror=alert(1)>",
            },
            new()
            {
                Type = JournalTypes.StepFailed,
                At = at.AddSeconds(2.25),
                Step = 1,
                Phase = "forward",
                Message = "</td><script>alert(1)</script>",
            },
        ];
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        // A culture with a decimal comma (this build runs in invariant-globalization mode: no named cultures).
        var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        System.Globalization.CultureInfo.CurrentCulture = comma;
        try
        {
            var html = ReportHtml.Render(RunReport.FromJournal("r1", "c", records)!);
            html.ShouldNotContain("<script", Case.Insensitive);
            html.ShouldNotContain("<img", Case.Insensitive);
            html.ShouldNotContain("<b>c</b>");
            html.ShouldContain("&lt;b&gt;c&lt;/b&gt;");
            Regex.IsMatch(html, "(x|y|width)=\"\\d+,\\d").ShouldBeFalse("coordinates use a decimal point");
            html.ShouldContain("(the journal ends here; the run has not finished)");
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    private static int Points(string html, string chart)
    {
        var match = Regex.Match(html, $"<svg id=\"{chart}\"[^>]* data-points=\"(\\d+)\"");
        match.Success.ShouldBeTrue($"a chart '{chart}'");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
