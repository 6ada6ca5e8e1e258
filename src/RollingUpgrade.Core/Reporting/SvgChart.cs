using System.Globalization;
using System.Net;
using System.Text;

namespace RollingUpgrade.Reporting;

/// <summary>
/// Inline SVG charts for the run report, drawn on a time axis (seconds from the run's start): step lines with
/// markers, and a timeline of bars. No script, no external font: they print as they show.
/// </summary>
internal static class SvgChart
{
    public const int Width = 1000;

    private const int Left = 70;
    private const int Right = 20;

    private static readonly string[] Palette =
    [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#9467bd",
        "#ff7f0e",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#7f7f7f",
        "#bcbd22",
    ];

    public static string Colour(int index) => Palette[index % Palette.Length];

    /// <summary>A line of values over time: held from each point to the next (step-after).</summary>
    public sealed record Series(string Name, string Colour, IReadOnlyList<(double T, double Value)> Points)
    {
        public bool Dashed { get; init; }

        /// <summary>Drawn as a straight line between points (a planned pace), not as steps.</summary>
        public bool Straight { get; init; }
    }

    /// <summary>A vertical line at a moment, with a short label.</summary>
    public sealed record Marker(double T, string Label, string Colour);

    /// <summary>A shaded stretch of time, with a label.</summary>
    public sealed record Band(double From, double To, string Label, string Colour);

    /// <summary>A bar of the timeline: one row per <see cref="Row"/>.</summary>
    public sealed record Bar(int Row, double From, double To, string Colour, string Title);

    public static string Lines(
        string id,
        string yLabel,
        double duration,
        IReadOnlyList<Series> series,
        IReadOnlyList<Marker> markers,
        IReadOnlyList<Band>? bands = null,
        int height = 300,
        double? yMax = null
    )
    {
        const int top = 20;
        const int bottom = 40;
        var plot = height - top - bottom;
        var max = yMax ?? NiceCeiling(series.SelectMany(s => s.Points).Select(p => p.Value).DefaultIfEmpty(0).Max());
        var x = XScale(duration, Left, Width - Right);
        double Y(double v) => top + plot - (v / max * plot);
        var svg = Open(id, height, series.Sum(s => s.Points.Count));
        foreach (var band in bands ?? [])
        {
            svg.Append(Shade(band, x, top, plot));
            svg.Append(Text(x(band.From) + 3, top + 12, band.Label, 11, fill: "#555"));
        }

        Axes(svg, x, duration, top, plot);
        foreach (var tick in Ticks(max))
        {
            svg.Append(Line(Left, Y(tick), Width - Right, Y(tick), "#e0e0e0"));
            svg.Append(Text(Left - 6, Y(tick) + 4, tick.ToString("0.##", CultureInfo.InvariantCulture), 11, "end"));
        }

        svg.Append(Text(14, top + (plot / 2), yLabel, 12, "middle", rotate: true));
        foreach (var marker in markers)
        {
            var at = x(marker.T);
            svg.Append("<g class=\"marker\">");
            svg.Append(Line(at, top, at, top + plot, marker.Colour, "3 3"));
            svg.Append(Text(at + 2, top + plot - 4, marker.Label, 10, fill: marker.Colour, rotate: true));
            svg.Append("</g>");
        }

        foreach (var line in series.Where(s => s.Points.Count > 0))
        {
            var path = new StringBuilder();
            path.Append('M').Append(N(x(line.Points[0].T))).Append(',').Append(N(Y(line.Points[0].Value)));
            foreach (var (t, value) in line.Points.Skip(1))
            {
                path.Append(line.Straight ? " L" : " H").Append(N(x(t)));
                path.Append(line.Straight ? "," : " V").Append(N(Y(value)));
            }

            svg.Append("<path class=\"series\" data-series=\"").Append(Encode(line.Name));
            svg.Append("\" data-points=\"").Append(line.Points.Count.ToString(CultureInfo.InvariantCulture));
            svg.Append("\" d=\"").Append(path).Append("\" fill=\"none\" stroke-width=\"2\" stroke=\"");
            svg.Append(line.Colour).Append(line.Dashed ? "\" stroke-dasharray=\"6 4\">" : "\">");
            svg.Append("<title>").Append(Encode(line.Name)).Append("</title></path>");
        }

        svg.Append("</svg>");
        return svg + Legend(series);
    }

    /// <summary>The step timeline: a labelled row per step, a bar per attempt, coloured by outcome.</summary>
    public static string Timeline(
        string id,
        double duration,
        IReadOnlyList<string> rows,
        IReadOnlyList<Bar> bars,
        IReadOnlyList<Band> bands
    )
    {
        const int top = 10;
        const int row = 16;
        const int plotLeft = Left + 330;
        var plot = rows.Count * row;
        var height = top + plot + 40;
        var x = XScale(duration, plotLeft, Width - Right);
        var svg = Open(id, height, bars.Count);
        for (var i = 0; i < rows.Count; i += 2)
        {
            svg.Append(Rect(10, top + (i * row), Width - Right - 10, row, "#f5f5f5"));
        }

        foreach (var band in bands)
        {
            svg.Append(Shade(band, x, top, plot));
        }

        for (var i = 0; i < rows.Count; i++)
        {
            svg.Append(Text(14, top + (i * row) + 12, Shorten(rows[i], 58), 11, title: rows[i]));
        }

        foreach (var tick in TimeTicks(duration))
        {
            svg.Append(Line(x(tick), top, x(tick), top + plot, "#ddd"));
            svg.Append(Text(x(tick), top + plot + 16, Clock(tick), 11, "middle"));
        }

        foreach (var bar in bars)
        {
            var width = Math.Max(2, x(bar.To) - x(bar.From));
            svg.Append(Rect(x(bar.From), top + (bar.Row * row) + 2, width, row - 4, bar.Colour, "bar", bar.Title));
        }

        svg.Append(Text((plotLeft + Width - Right) / 2.0, height - 6, "time from the start of the run", 12, "middle"));
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>m:ss (or h:mm:ss) from the start of the run.</summary>
    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1
            ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }

    private static StringBuilder Open(string id, int height, int dataPoints) =>
        new StringBuilder("<svg id=\"")
            .Append(id)
            .Append("\" class=\"chart\" data-points=\"")
            .Append(dataPoints.ToString(CultureInfo.InvariantCulture))
            .Append("\" viewBox=\"0 0 ")
            .Append(Width.ToString(CultureInfo.InvariantCulture))
            .Append(' ')
            .Append(height.ToString(CultureInfo.InvariantCulture))
            .Append("\" width=\"100%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">");

    private static Func<double, double> XScale(double duration, double from, double to) =>
        t => from + (duration <= 0 ? 0 : t / duration * (to - from));

    private static void Axes(StringBuilder svg, Func<double, double> x, double duration, int top, int plot)
    {
        svg.Append(Line(Left, top + plot, Width - Right, top + plot, "#333"));
        svg.Append(Line(Left, top, Left, top + plot, "#333"));
        foreach (var tick in TimeTicks(duration))
        {
            svg.Append(Line(x(tick), top + plot, x(tick), top + plot + 4, "#333"));
            svg.Append(Text(x(tick), top + plot + 16, Clock(tick), 11, "middle"));
        }

        svg.Append(Text((Left + Width - Right) / 2.0, top + plot + 34, "time from the start of the run", 12, "middle"));
    }

    private static string Legend(IReadOnlyList<Series> series)
    {
        var html = new StringBuilder("<div class=\"legend\">");
        foreach (var line in series)
        {
            html.Append("<span><svg width=\"22\" height=\"10\">");
            html.Append(Line(0, 5, 22, 5, line.Colour, line.Dashed ? "5 3" : null, width: 3));
            html.Append("</svg> ").Append(Encode(line.Name)).Append("</span>");
        }

        return html.Append("</div>").ToString();
    }

    private static string Shade(Band band, Func<double, double> x, int top, int plot) =>
        Rect(x(band.From), top, Math.Max(1, x(band.To) - x(band.From)), plot, band.Colour, "band", band.Label, 0.15);

    private static string Rect(
        double x,
        double y,
        double width,
        double height,
        string fill,
        string? cls = null,
        string? title = null,
        double? opacity = null
    ) =>
        $"<rect{(cls is null ? string.Empty : $" class=\"{cls}\"")} x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" "
        + $"height=\"{N(height)}\" fill=\"{fill}\""
        + (opacity is { } o ? $" fill-opacity=\"{N(o)}\"" : string.Empty)
        + (title is null ? "/>" : $"><title>{Encode(title)}</title></rect>");

    private static string Line(
        double x1,
        double y1,
        double x2,
        double y2,
        string stroke,
        string? dash = null,
        int width = 1
    ) =>
        $"<line x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\" stroke=\"{stroke}\""
        + (width == 1 ? string.Empty : $" stroke-width=\"{width}\"")
        + (dash is null ? "/>" : $" stroke-dasharray=\"{dash}\"/>");

    private static string Text(
        double x,
        double y,
        string text,
        int size,
        string anchor = "start",
        string? fill = null,
        bool rotate = false,
        string? title = null
    ) =>
        $"<text x=\"{N(x)}\" y=\"{N(y)}\" font-size=\"{size}\" text-anchor=\"{anchor}\""
        + (fill is null ? string.Empty : $" fill=\"{fill}\"")
        + (rotate ? $" transform=\"rotate(-90 {N(x)} {N(y)})\"" : string.Empty)
        + ">"
        + (title is null ? string.Empty : $"<title>{Encode(title)}</title>")
        + Encode(text)
        + "</text>";

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>At most about ten ticks at a round step (1 s ... 1 h).</summary>
    private static IEnumerable<double> TimeTicks(double duration)
    {
        double[] steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];
        var step = steps.FirstOrDefault(s => duration / s <= 10, 28800);
        for (double t = 0; t <= duration + 0.001; t += step)
        {
            yield return t;
        }
    }

    private static IEnumerable<double> Ticks(double max)
    {
        var step = NiceCeiling(max / 5);
        for (double v = 0; v <= max + (step / 1000); v += step)
        {
            yield return v;
        }
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/> (and at least 1).</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 1)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1, 2, 5, 10 }.Select(m => m * power).First(v => v >= value);
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
