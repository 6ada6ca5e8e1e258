using System.Text.RegularExpressions;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// The demo end to end, piped (as in CI): it upgrades and cuts over under client load without a failed operation,
/// beats while it waits, leaves no process, and ends by writing each run's report; each report opens in headless
/// Chromium with the step timeline and the per-node connection chart drawn from the run's data.
/// </summary>
public sealed partial class DemoReportTests(ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    public async Task The_demo_upgrades_and_cuts_over_without_a_failed_operation_and_its_reports_open_in_chromium()
    {
        var result = await CliRunner.RunAsync("demo");

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        result.Output.ShouldContain("SUCCEEDED: demo-rolling runs 2.0");
        result.Output.ShouldContain("SUCCEEDED: demo-parallel runs 3.0");
        result.Output.Split('\n')[1].ShouldBe("preparing: starting blue-1..3 and the proxy ...");
        result.Output.ShouldContain("exit code 0) ==");
        result.Output.ShouldContain("client operations from the first step of the upgrade:");
        var operations = result
            .Output.Split('\n')
            .Where(l => l.Contains("attempted", StringComparison.Ordinal))
            .ToList();
        operations.Count.ShouldBe(5);
        operations.ShouldAllBe(l => l.TrimEnd().EndsWith("failed 0", StringComparison.Ordinal));
        // Piped, a wait says what it waits for as it goes (heartbeats), not a live table.
        result.Output.ShouldContain("still waiting for blue-1's live connections");
        result.Output.ShouldNotContain("conns @ proxy");
        // This demo's nodes (their --dir lies in its state folder): other demos may run on the machine meanwhile
        // (the lab's tests run one in a container, whose processes the host sees).
        var state = Regex.Match(result.Output, @"state in (\S+)").Groups[1].Value;
        state.StartsWith('/').ShouldBeTrue(result.Output);
        DemoTests.DemoNodeProcesses(state).ShouldBe(0);

        var reports = ReportPath().Matches(result.Output).Select(m => m.Groups[1].Value).ToList();
        reports.Count.ShouldBe(2, result.Output);
        try
        {
            await CheckAsync(reports[0], ["blue-1", "blue-2", "blue-3"], parallel: false);
            await CheckAsync(
                reports[1],
                ["blue-1", "blue-2", "blue-3", "green-1", "green-2", "green-3"],
                parallel: true
            );
        }
        finally
        {
            foreach (var report in reports)
            {
                File.Delete(report);
                File.Delete(Path.ChangeExtension(report, ".png"));
            }
        }
    }

    private async Task CheckAsync(string report, string[] nodes, bool parallel)
    {
        File.Exists(report).ShouldBeTrue(report);
        var dom = await Chromium.DumpDomAsync(report);
        dom.ShouldContain("<h1>demo-");
        dom.ShouldContain("succeeded</span>");
        Points(dom, "timeline").ShouldBeGreaterThan(10);
        Points(dom, "connections").ShouldBeGreaterThan(nodes.Length * 2);
        foreach (var node in nodes.Where(n => n.StartsWith("blue", StringComparison.Ordinal)))
        {
            // Every blue node's line has readings, from its connections under load down to zero.
            var line = Regex.Match(dom, $"<path class=\"series\" data-series=\"{node}\" data-points=\"(\\d+)\"");
            line.Success.ShouldBeTrue($"a line for {node} in {report}");
            int.Parse(line.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(1);
        }

        dom.Contains("<svg id=\"weights\"", StringComparison.Ordinal).ShouldBe(parallel);
        dom.ShouldContain("Both versions served from");

        var png = await Chromium.ScreenshotAsync(report, Path.ChangeExtension(report, ".png"));
        var image = PngImage.Read(png);
        var bars = image.Count("#43a047", tolerance: 4);
        var firstLine = image.Count("#1f77b4", tolerance: 4);
        output.WriteLine(
            $"{Path.GetFileName(report)}: screenshot {image.Width}x{image.Height}, {image.NotWhite()} pixels not white, "
                + $"{bars} of the succeeded bars' green, {firstLine} of blue-1's line"
        );
        bars.ShouldBeGreaterThan(2000, "the timeline's bars are drawn");
        firstLine.ShouldBeGreaterThan(100, "blue-1's connection line is drawn");
    }

    private static int Points(string dom, string chart)
    {
        var match = Regex.Match(dom, $"<svg id=\"{chart}\"[^>]* data-points=\"(\\d+)\"");
        match.Success.ShouldBeTrue($"a chart '{chart}'");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"report: (\S+\.html)")]
    private static partial Regex ReportPath();
}
