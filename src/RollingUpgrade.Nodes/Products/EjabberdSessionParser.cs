using System.Text.Json;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>One client session as ejabberd's connected_users_info lists it.</summary>
public sealed record EjabberdSession(string User, string Host, string Resource, string Node);

/// <summary>
/// <c>connected_users_info</c>: from ejabberdctl one tab-separated line per session (full JID,
/// connection, ip, port, priority, node, uptime, status, resource, status text); from the HTTP API
/// a list of objects with the same fields by name.
/// </summary>
internal static class EjabberdSessionParser
{
    public static IReadOnlyList<EjabberdSession> ParseCtl(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var sessions = new List<EjabberdSession>();
        foreach (
            var line in output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.TrimEnd('\r'))
                .Where(l => l.Trim().Length > 0)
        )
        {
            var fields = line.Split('\t');
            if (fields.Length < 6)
            {
                throw new UnexpectedAnswerException(
                    $"connected_users_info printed a line with {fields.Length} field(s), expected jid, connection, "
                        + $"ip, port, priority, node, ...: '{ErlangTerms.Shorten(line)}'"
                );
            }

            sessions.Add(FromJid(fields[0], fields.Length > 8 ? fields[8] : null, fields[5].Trim('\'')));
        }

        return sessions;
    }

    /// <summary>One session of the API's list: an object with at least jid and node.</summary>
    public static EjabberdSession FromJson(JsonElement item)
    {
        if (
            item.ValueKind != JsonValueKind.Object
            || Text(item, "jid") is not { } jid
            || Text(item, "node") is not { } node
        )
        {
            throw new UnexpectedAnswerException(
                $"ejabberd's HTTP API listed a session without jid and node: '{ErlangTerms.Shorten(item.ToString())}'"
            );
        }

        return FromJid(jid, Text(item, "resource"), node);
    }

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>"user@host/resource" (the resource may hold '/'); a separate resource field wins.</summary>
    private static EjabberdSession FromJid(string jid, string? resource, string node)
    {
        var slash = jid.IndexOf('/', StringComparison.Ordinal);
        var bare = slash < 0 ? jid : jid[..slash];
        var at = bare.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == bare.Length - 1)
        {
            throw new UnexpectedAnswerException(
                $"connected_users_info listed '{ErlangTerms.Shorten(jid)}', which is not a user@host/resource JID"
            );
        }

        var res =
            resource is { Length: > 0 } ? resource
            : slash < 0 ? string.Empty
            : jid[(slash + 1)..];
        return new EjabberdSession(bare[..at], bare[(at + 1)..], res, node);
    }
}
