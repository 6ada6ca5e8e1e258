namespace RollingUpgrade.Journaling;

/// <summary>Replaces every known secret value with "***" before text reaches a log, journal or report.</summary>
public sealed class SecretRedactor
{
    private readonly List<string> _secrets = [];
    private readonly Lock _gate = new();

    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 4)
        {
            return;
        }

        lock (_gate)
        {
            if (!_secrets.Contains(secret))
            {
                _secrets.Add(secret);
                _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
            }
        }
    }

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        lock (_gate)
        {
            foreach (var secret in _secrets)
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return text;
    }
}
