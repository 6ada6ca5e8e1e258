namespace RollingUpgrade.Plans.Binding;

/// <summary>"Did you mean" for unknown keys and values: the closest known word.</summary>
public static class Suggestions
{
    public static string? Closest(string word, IReadOnlyCollection<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        // Close enough to be a typo, and not so short that any word would be "close".
        if (bestDistance <= Math.Max(2, word.Length / 3) && bestDistance * 2 < word.Length)
        {
            return best;
        }

        // "password" -> "password_env": a known key that starts with, or else contains, the word.
        return word.Length < 4
            ? null
            : candidates.FirstOrDefault(c => c.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                ?? candidates.FirstOrDefault(c => c.Contains(word, StringComparison.OrdinalIgnoreCase));
    }

    public static string DidYouMean(string word, IEnumerable<string> candidates)
    {
        var known = candidates.ToList();
        var closest = Closest(word, known);
        return closest is not null ? $"; did you mean '{closest}'?" : $"; expected one of: {string.Join(", ", known)}";
    }

    /// <summary>Edit distance where swapping two neighbouring letters counts as one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
