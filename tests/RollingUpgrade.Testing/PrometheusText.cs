using System.Globalization;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Testing;

/// <summary>
/// Prometheus text exposition format (0.0.4), read strictly: every sample line must parse, and every sample's family
/// must have been announced by # HELP and # TYPE lines.
/// </summary>
public static partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public bool Has(string label, string value) => Labels.GetValueOrDefault(label) == value;
    }

    public static IReadOnlyList<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        var typed = new HashSet<string>(StringComparer.Ordinal);
        var helped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var meta = Meta().Match(line);
            if (meta.Success)
            {
                (meta.Groups["kind"].Value == "TYPE" ? typed : helped).Add(meta.Groups["name"].Value);
                continue;
            }

            var match = Line().Match(line);
            if (!match.Success)
            {
                throw new FormatException($"not a Prometheus sample line: '{line}'");
            }

            var name = match.Groups["name"].Value;
            var family = Suffix().Replace(name, string.Empty);
            if (!typed.Contains(name) && !typed.Contains(family))
            {
                throw new FormatException($"sample '{name}' has no # TYPE line before it");
            }

            if (!helped.Contains(name) && !helped.Contains(family))
            {
                throw new FormatException($"sample '{name}' has no # HELP line before it");
            }

            var labels = LabelPair()
                .Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["key"].Value, m => Regex.Unescape(m.Groups["value"].Value));
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(name, labels, value));
        }

        return samples;
    }

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) .*$")]
    private static partial Regex Meta();

    [GeneratedRegex(
        @"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*)\})? (?<value>\S+)( \d+)?$"
    )]
    private static partial Regex Line();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();

    [GeneratedRegex("(_bucket|_sum|_count|_total)$")]
    private static partial Regex Suffix();
}
