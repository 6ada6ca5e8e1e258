using System.Globalization;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Text;

/// <summary>Durations as operators write them: "250ms", "30s", "5m", "1h30m", "2d".</summary>
public static partial class DurationText
{
    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 32)
        {
            return false;
        }

        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        long Part(int group) =>
            match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            value =
                TimeSpan.FromDays(Part(1))
                + TimeSpan.FromHours(Part(2))
                + TimeSpan.FromMinutes(Part(3))
                + TimeSpan.FromSeconds(Part(4))
                + TimeSpan.FromMilliseconds(Part(5));
        }
        catch (OverflowException)
        {
            return false;
        }

        return value < TimeSpan.FromDays(366);
    }

    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new List<string>();
        if (value.Days > 0)
            parts.Add($"{value.Days}d");
        if (value.Hours > 0)
            parts.Add($"{value.Hours}h");
        if (value.Minutes > 0)
            parts.Add($"{value.Minutes}m");
        if (value.Seconds > 0)
            parts.Add($"{value.Seconds}s");
        if (value.Milliseconds > 0)
            parts.Add($"{value.Milliseconds}ms");
        return string.Concat(parts);
    }
}
