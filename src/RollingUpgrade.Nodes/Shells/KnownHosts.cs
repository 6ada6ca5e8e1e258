using System.Security.Cryptography;
using System.Text;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// OpenSSH known_hosts: plain or hashed (<c>|1|salt|hash</c>) host patterns, <c>[host]:port</c> for
/// ports other than 22, comma-separated names; <c>@revoked</c> lines refuse a key.
/// </summary>
internal sealed class KnownHosts
{
    private readonly List<Entry> _entries;

    private KnownHosts(List<Entry> entries) => _entries = entries;

    private sealed record Entry(string Hosts, string KeyType, byte[] Key, bool Revoked);

    public enum Verdict
    {
        Known,
        Unknown,
        Changed,
        Revoked,
    }

    public static KnownHosts Load(string path)
    {
        var entries = new List<Entry>();
        if (!File.Exists(path))
        {
            return new KnownHosts(entries);
        }

        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var revoked = false;
            if (fields[0].StartsWith('@'))
            {
                revoked = fields[0] == "@revoked";
                if (!revoked)
                {
                    continue; // @cert-authority lines are not host keys.
                }

                fields = fields[1..];
            }

            if (fields.Length < 3)
            {
                continue;
            }

            try
            {
                entries.Add(new Entry(fields[0], fields[1], Convert.FromBase64String(fields[2]), revoked));
            }
            catch (FormatException)
            {
                // A damaged line matches nothing.
            }
        }

        return new KnownHosts(entries);
    }

    public Verdict Check(string host, int port, string keyType, byte[] key)
    {
        var name = port == 22 ? host : $"[{host}]:{port}";
        var forHost = _entries.Where(e => Matches(e.Hosts, name)).ToList();
        if (forHost.Any(e => e.Revoked && e.Key.AsSpan().SequenceEqual(key)))
        {
            return Verdict.Revoked;
        }

        if (forHost.Any(e => !e.Revoked && e.Key.AsSpan().SequenceEqual(key)))
        {
            return Verdict.Known;
        }

        return forHost.Any(e => !e.Revoked && e.KeyType == keyType) ? Verdict.Changed : Verdict.Unknown;
    }

    private static bool Matches(string patterns, string name)
    {
        foreach (var pattern in patterns.Split(','))
        {
            if (pattern.StartsWith("|1|", StringComparison.Ordinal))
            {
                var parts = pattern.Split('|');
                if (parts.Length == 4)
                {
                    try
                    {
                        var salt = Convert.FromBase64String(parts[2]);
                        var hash = HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name));
                        if (Convert.ToBase64String(hash) == parts[3])
                        {
                            return true;
                        }
                    }
                    catch (FormatException)
                    {
                        // Not a valid hashed entry.
                    }
                }
            }
            else if (string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
