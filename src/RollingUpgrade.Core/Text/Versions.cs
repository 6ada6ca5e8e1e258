using System.Globalization;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Text;

/// <summary>Release versions as MongooseIM and ejabberd print them ("6.3.1", "6.3.1-12-gabc1234", "23.01").</summary>
public static partial class Versions
{
    public readonly record struct Version3(int Major, int Minor, int Patch) : IComparable<Version3>
    {
        public int CompareTo(Version3 other) =>
            Major != other.Major ? Major.CompareTo(other.Major)
            : Minor != other.Minor ? Minor.CompareTo(other.Minor)
            : Patch.CompareTo(other.Patch);

        public static bool operator <(Version3 a, Version3 b) => a.CompareTo(b) < 0;

        public static bool operator >(Version3 a, Version3 b) => a.CompareTo(b) > 0;

        public static bool operator <=(Version3 a, Version3 b) => a.CompareTo(b) <= 0;

        public static bool operator >=(Version3 a, Version3 b) => a.CompareTo(b) >= 0;

        public override string ToString() => $"{Major}.{Minor}.{Patch}";
    }

    [GeneratedRegex(@"^(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?", RegexOptions.CultureInvariant)]
    private static partial Regex Leading();

    public static bool TryParse(string text, out Version3 version)
    {
        version = default;

        // "v6.0.0" and "V6.0.0" are how tags are often written: the same release as "6.0.0".
        var trimmed = (text ?? string.Empty).Trim();
        if (trimmed.Length > 1 && trimmed[0] is 'v' or 'V' && char.IsAsciiDigit(trimmed[1]))
        {
            trimmed = trimmed[1..];
        }

        var match = Leading().Match(trimmed);
        if (!match.Success)
        {
            return false;
        }

        static int Part(Group g) => g.Success ? int.Parse(g.Value, CultureInfo.InvariantCulture) : 0;
        version = new Version3(Part(match.Groups[1]), Part(match.Groups[2]), Part(match.Groups[3]));
        return true;
    }

    /// <summary>Whether a node reporting <paramref name="reported"/> runs <paramref name="expected"/>.</summary>
    public static bool Matches(string reported, string expected)
    {
        ArgumentNullException.ThrowIfNull(reported);
        ArgumentNullException.ThrowIfNull(expected);
        var r = reported.Trim();
        return r == expected
            || r.StartsWith(expected + "-", StringComparison.Ordinal)
            || r.StartsWith(expected + " ", StringComparison.Ordinal);
    }
}
