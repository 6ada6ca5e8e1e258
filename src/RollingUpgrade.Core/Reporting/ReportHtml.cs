using System.Globalization;
using System.Net;
using System.Text;
using RollingUpgrade.Text;

namespace RollingUpgrade.Reporting;

/// <summary>
/// The run report as one self-contained HTML file: a header (cluster, who, from -> to, outcome, wall time, what to do
/// next), the step timeline, live connections per node with drains, evictions and stops marked, traffic weights
/// (parallel), the eviction pace against the plan's, gate results, the mixed-version window and every step attempt.
/// Inline SVG and CSS only: no script, no external font or file.
/// </summary>
public static class ReportHtml
{
    private const string Css = """
        body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1100px; }
        h1 { font-size: 22px; margin-bottom: 4px; }
        h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
        table.steps td, table.steps th, table.gates td, table.gates th, table.proofs td, table.proofs th {
            border-bottom: 1px solid #eee;
        }
        .outcome { font-weight: bold; padding: 1px 8px; border-radius: 3px; color: #fff; }
        .succeeded { background: #2e7d32; } .failed, .halted { background: #c62828; }
        .interrupted, .unfinished, .needs-operator { background: #ef6c00; } .rolled-back { background: #1565c0; }
        .legend { font-size: 12px; margin: 2px 0 8px 70px; } .legend span { margin-right: 14px; white-space: nowrap; }
        .note { color: #555; font-size: 13px; }
        .next { background: #fff8e1; padding: 6px 10px; border-left: 4px solid #f9a825; }
        @media print { body { margin: 0; } h2 { page-break-after: avoid; } svg { page-break-inside: avoid; } }
        """;

    private const string Succeeded = "#43a047";
    private const string Failed = "#e53935";
    private const string Stopped = "#fb8c00";
    private const string Unfinished = "#9e9e9e";
    private const string Rollback = "#1e88e5";

    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        // Numbers in SVG coordinates and CSS must not take the operator's decimal comma.
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            return RenderInvariant(report);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    private static string RenderInvariant(RunReport report)
    {
        var run = report.Summary;
        var duration = Math.Max(1, (report.End - report.Begin).TotalSeconds);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append($"<title>{E(run.Cluster)}: run {E(run.RunId)} ({E(run.Outcome)})</title>");
        html.Append("<style>").Append(Css).Append("</style></head><body>\n");
        Header(html, report);
        html.Append("<h2>Steps over time</h2>\n");
        html.Append(Timeline(report, duration));
        html.Append(
            "<div class=\"legend\"><span style=\"color:#43a047\">■ succeeded</span><span style=\"color:#1e88e5\">■ "
                + "rollback step</span><span style=\"color:#e53935\">■ failed</span>"
                + "<span style=\"color:#fb8c00\">■ "
                + "interrupted</span><span style=\"color:#9e9e9e\">■ unfinished (process ended)</span>"
                + "<span>shaded: mixed versions</span></div>\n"
        );
        html.Append("<h2>Live connections per node</h2>\n");
        html.Append(Connections(report, duration));
        if (report.Weights.Count > 0)
        {
            html.Append("<h2>Traffic weights</h2>\n");
            html.Append(Weights(report, duration));
        }

        if (report.Samples.Any(s => s.Evicted > 0))
        {
            html.Append("<h2>Eviction pace</h2>\n");
            html.Append(Eviction(report, duration));
        }

        Proofs(html, report);
        Gates(html, report);
        Mixed(html, report);
        StepTable(html, report);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Header(StringBuilder html, RunReport report)
    {
        var run = report.Summary;
        html.Append($"<h1>{E(run.Cluster)}: {E(run.FromVersion ?? "?")} → {E(run.ToVersion ?? "?")}</h1>\n");
        html.Append("<table class=\"header\">");
        Row(html, "outcome", $"<span class=\"outcome {E(run.Outcome)}\">{E(run.Outcome)}</span>");
        Row(html, "run", E(run.RunId));
        Row(html, "strategy", E(run.Strategy ?? "?"));
        Row(html, "operator", E(run.Operator ?? "?"));
        if (run.Reason is { } reason)
        {
            Row(html, "reason", E(reason));
        }

        Row(html, "started", $"{run.StartedAt:yyyy-MM-dd HH:mm:ss}Z");
        var wall = (report.End - report.Begin).TotalSeconds;
        Row(
            html,
            "wall time",
            E(DurationText.Format(TimeSpan.FromSeconds(Math.Round(wall))))
                + (run.FinishedAt is null ? " (the journal ends here; the run has not finished)" : string.Empty)
        );
        var attempts = report.Steps.Count;
        var failed = report.Steps.Count(s => s.Outcome == "failed");
        Row(
            html,
            "steps",
            $"{report.Steps.Select(s => (s.Phase, s.Number)).Distinct().Count()} ({attempts} attempts, {failed} failed)"
        );
        Row(html, "plan fingerprint", E(run.Fingerprint ?? "?"));
        html.Append("</table>\n");
        if (report.FinalMessage is { } message && run.Outcome != "succeeded")
        {
            html.Append($"<p>{E(message)}</p>\n");
        }

        if (report.Next is { } next && run.Outcome != "succeeded")
        {
            html.Append($"<p class=\"next\"><b>next:</b> {E(next)}</p>\n");
        }
    }

    private static string Timeline(RunReport report, double duration)
    {
        var rows = new List<string>();
        var rowOf = new Dictionary<(string, int), int>();
        var bars = new List<SvgChart.Bar>();
        foreach (var step in report.Steps)
        {
            if (!rowOf.TryGetValue((step.Phase, step.Number), out var row))
            {
                row = rows.Count;
                rowOf[(step.Phase, step.Number)] = row;
                rows.Add(
                    (step.Phase == "forward" ? string.Empty : step.Phase + " ")
                        + step.Number.ToString(CultureInfo.InvariantCulture)
                        + ". "
                        + step.Description
                );
            }

            var colour = step.Outcome switch
            {
                "succeeded" => step.Phase == "forward" ? Succeeded : Rollback,
                "failed" => Failed,
                "interrupted" => Stopped,
                _ => Unfinished,
            };
            var end = step.Ended ?? report.End;
            bars.Add(
                new SvgChart.Bar(
                    row,
                    Seconds(report, step.Started),
                    Seconds(report, end),
                    colour,
                    $"{step.Number}. {step.Description}: {step.Outcome}, "
                        + DurationText.Format(Round(end - step.Started))
                        + (step.Message is { } m ? ": " + m : string.Empty)
                )
            );
        }

        return SvgChart.Timeline("timeline", duration, rows, bars, MixedBand(report));
    }

    private static string Connections(RunReport report, double duration)
    {
        if (report.Samples.Count == 0)
        {
            return "<p class=\"note\">No drain samples in this run's journal (no drain wait ran, or the journal was "
                + "written by a version that did not record them).</p>\n";
        }

        var series = new List<SvgChart.Series>();
        var nodes = report.AllNodes;
        for (var i = 0; i < nodes.Count; i++)
        {
            var points = report
                .ConnectionsOf(nodes[i])
                .Select(p => (Seconds(report, p.At), (double)p.Connections))
                .ToList();
            if (points.Count > 0)
            {
                series.Add(
                    new SvgChart.Series(nodes[i], SvgChart.Colour(i), points)
                    {
                        Dashed = report.GreenNodes.Contains(nodes[i]),
                    }
                );
            }
        }

        var markers = new List<SvgChart.Marker>();
        foreach (var step in report.Steps.Where(s => s.Phase == "forward"))
        {
            var label = step.Kind switch
            {
                "Drain" => "drain ",
                "Stop" or "StopBlue" => "stop ",
                _ => null,
            };
            if (label is not null)
            {
                var colour = SvgChart.Colour(Math.Max(0, IndexOf(nodes, step.Nodes.FirstOrDefault())));
                markers.Add(
                    new SvgChart.Marker(Seconds(report, step.Started), label + string.Join('+', step.Nodes), colour)
                );
            }
        }

        foreach (var first in report.Samples.Where(s => s.Evicted > 0).GroupBy(s => s.Node).Select(g => g.First()))
        {
            markers.Add(
                new SvgChart.Marker(
                    Seconds(report, first.At),
                    "evict " + first.Node,
                    SvgChart.Colour(Math.Max(0, IndexOf(nodes, first.Node)))
                )
            );
        }

        return SvgChart.Lines(
                "connections",
                "live connections (load balancers)",
                duration,
                series,
                markers,
                MixedBand(report)
            )
            + "<p class=\"note\">Read at the load balancers during drain waits: the draining node at every poll, the "
            + "others every few seconds. Dashed: the new cluster's nodes.</p>\n";
    }

    private static string Weights(RunReport report, double duration)
    {
        var green = report.Weights.Select(w => (Seconds(report, w.At), (double)w.GreenPercent)).ToList();
        green.Add((duration, green[^1].Item2));
        var blue = green.Select(p => (p.Item1, 100 - p.Item2)).ToList();
        return SvgChart.Lines(
            "weights",
            "share of new traffic (%)",
            duration,
            [
                new SvgChart.Series("old cluster (blue)", "#1565c0", blue),
                new SvgChart.Series("new cluster (green)", "#2e7d32", green),
            ],
            [],
            MixedBand(report),
            height: 220,
            yMax: 100
        );
    }

    /// <summary>What was evicted, per node, against the plan's pace from the moment eviction began.</summary>
    private static string Eviction(RunReport report, double duration)
    {
        var series = new List<SvgChart.Series>();
        var nodes = report.AllNodes;
        foreach (var group in report.Samples.Where(s => s.Evicted > 0).GroupBy(s => s.Node))
        {
            var colour = SvgChart.Colour(Math.Max(0, IndexOf(nodes, group.Key)));
            var first = group.First();
            // From the last reading before the eviction began (nothing evicted yet) to the end of the node's drain.
            var before = report.Samples.LastOrDefault(s => s.Node == group.Key && s.At < first.At && s.Evicted == 0);
            var actual = report
                .Samples.Where(s => s.Node == group.Key && s.At >= (before ?? first).At)
                .Select(s => (Seconds(report, s.At), (double)s.Evicted))
                .ToList();
            series.Add(new SvgChart.Series($"{group.Key}: evicted", colour, actual));
            if (report.EvictionRate is { } rate)
            {
                // Eviction begins at the drain's deadline: its wait's start plus the drain timeout.
                var wait = report.Steps.LastOrDefault(w =>
                    w.Kind == "WaitDrained" && w.Nodes.Contains(group.Key) && w.Started <= first.At
                );
                var begin =
                    wait is not null && report.DrainTimeout is { } timeout
                        ? Seconds(report, wait.Started + timeout)
                        : actual[0].Item1;
                var total = actual[^1].Item2;
                series.Add(
                    new SvgChart.Series(
                        $"{group.Key}: planned {rate:0.##}/s",
                        colour,
                        [(begin, 0), (begin + (total / rate), total)]
                    )
                    {
                        Dashed = true,
                        Straight = true,
                    }
                );
            }
        }

        foreach (var group in report.Samples.Where(s => s.Pace is not null).GroupBy(s => s.Node))
        {
            var colour = SvgChart.Colour(Math.Max(0, IndexOf(nodes, group.Key)));
            var points = group.Select(s => (Seconds(report, s.At), s.Pace!.Value)).ToList();
            series.Add(new SvgChart.Series($"{group.Key}: pace (sessions/s)", colour, points) { Dashed = true });
        }

        return SvgChart.Lines("eviction", "sessions evicted (total); pace", duration, series, [], height: 240);
    }

    /// <summary>When each balancer stopped sending to a drained node, and whether evicted clients came back.</summary>
    private static void Proofs(StringBuilder html, RunReport report)
    {
        if (report.Proofs.Count == 0)
        {
            return;
        }

        string Value(DrainProof proof, string key) => proof.Data.GetValueOrDefault(key) ?? string.Empty;
        var propagation = report.Proofs.Where(p => p.Kind == "propagation").ToList();
        if (propagation.Count > 0)
        {
            html.Append("<h2>Drain propagation</h2>\n<table class=\"proofs\"><tr><th>node</th><th>load balancer</th>");
            html.Append("<th>last new session after the drain</th><th>new sessions after the drain</th></tr>");
            foreach (var p in propagation)
            {
                html.Append(
                    $"<tr><td>{E(p.Node)}</td><td>{E(Value(p, "load_balancer"))}</td>"
                        + $"<td>{E(Value(p, "propagation_ms"))} ms</td><td>{E(Value(p, "new_sessions"))}</td></tr>"
                );
            }

            html.Append("</table>\n");
        }

        var takeover = report.Proofs.Where(p => p.Kind == "takeover").ToList();
        if (takeover.Count > 0)
        {
            html.Append("<h2>Takeover of evicted sessions</h2>\n<table class=\"proofs\"><tr><th>node</th>");
            html.Append("<th>evicted</th><th>re-established</th><th>not back</th><th>took</th><th>result</th>");
            html.Append("<th>serving nodes' sessions: as it began → at the end</th></tr>");
            foreach (var p in takeover)
            {
                var outcome = Value(p, "passed") == "true" ? "succeeded" : "failed";
                html.Append(
                    $"<tr><td>{E(p.Node)}</td><td>{E(Value(p, "evicted"))}</td><td>{E(Value(p, "reestablished"))}"
                        + $"</td><td>{E(Value(p, "not_back"))}</td><td>{E(Value(p, "took_ms"))} ms</td>"
                        + $"<td><span class=\"outcome {outcome}\">{outcome}</span></td>"
                        + $"<td>{E(Value(p, "serving_at_eviction"))} → {E(Value(p, "serving_now"))}</td></tr>"
                );
            }

            html.Append("</table>\n");
        }
    }

    private static void Gates(StringBuilder html, RunReport report)
    {
        var gates = report.Steps.Where(s => s.Kind is "RunGates" or "VerifyNode" or "VerifyCluster" or "VerifyGreen");
        html.Append("<h2>Gates and verifications</h2>\n");
        if (!gates.Any())
        {
            html.Append("<p class=\"note\">None in this run.</p>\n");
            return;
        }

        html.Append("<table class=\"gates\"><tr><th>step</th><th>result</th><th>took</th><th>detail</th></tr>");
        foreach (var gate in gates)
        {
            html.Append(
                $"<tr><td>{gate.Number}. {E(gate.Description)}</td><td><span class=\"outcome {E(gate.Outcome)}\">"
                    + $"{E(gate.Outcome)}</span></td><td>{E(Took(gate))}</td>"
                    + $"<td>{E(gate.Message ?? string.Empty)}</td></tr>"
            );
        }

        html.Append("</table>\n");
    }

    private static void Mixed(StringBuilder html, RunReport report)
    {
        html.Append("<h2>Mixed-version window</h2>\n<p>");
        if (report.MixedFrom is not { } from || report.MixedTo is not { } to)
        {
            html.Append("Both versions never served at once in this run.</p>\n");
            return;
        }

        html.Append(
            $"Both versions served from {Clock(report, from)} to {Clock(report, to)} after the start: "
                + $"{E(DurationText.Format(Round(to - from)))}"
        );
        html.Append(report.MixedAtEnd ? ", and still did when the journal ended.</p>\n" : ".</p>\n");
    }

    private static void StepTable(StringBuilder html, RunReport report)
    {
        html.Append("<h2>Every step attempt</h2>\n<table class=\"steps\"><tr><th>#</th><th>phase</th><th>step</th>");
        html.Append("<th>began</th><th>took</th><th>outcome</th><th>detail</th></tr>");
        foreach (var step in report.Steps)
        {
            html.Append(
                $"<tr><td>{step.Number}</td><td>{E(step.Phase)}</td><td>{E(step.Description)}</td>"
                    + $"<td>{Clock(report, step.Started)}</td><td>{E(Took(step))}</td><td><span class=\"outcome "
                    + $"{E(step.Outcome)}\">{E(step.Outcome)}</span></td>"
                    + $"<td>{E(step.Message ?? string.Empty)}</td></tr>"
            );
        }

        html.Append("</table>\n");
    }

    private static SvgChart.Band[] MixedBand(RunReport report) =>
        report.MixedFrom is { } from && report.MixedTo is { } to
            ? [new SvgChart.Band(Seconds(report, from), Seconds(report, to), "mixed versions", "#fbc02d")]
            : [];

    private static string Took(ReportStep step) =>
        step.Duration is { } d ? DurationText.Format(Round(d)) : "(no end recorded)";

    private static TimeSpan Round(TimeSpan span) =>
        span < TimeSpan.FromSeconds(10)
            ? TimeSpan.FromMilliseconds(Math.Round(span.TotalMilliseconds / 100) * 100)
            : TimeSpan.FromSeconds(Math.Round(span.TotalSeconds));

    private static int IndexOf(IReadOnlyList<string> nodes, string? node) =>
        node is null ? -1 : nodes.ToList().IndexOf(node);

    private static double Seconds(RunReport report, DateTimeOffset at) => (at - report.Begin).TotalSeconds;

    private static string Clock(RunReport report, DateTimeOffset at) => SvgChart.Clock(Seconds(report, at));

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append($"<tr><th>{E(name)}</th><td>{value}</td></tr>");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
