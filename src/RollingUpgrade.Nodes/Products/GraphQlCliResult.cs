using System.Text.Json;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// The JSON that the MongooseIM 6.x CLI prints (<c>mongooseimctl category command --arg value</c>):
/// read by path, never by key order; an <c>errors</c> member is a refusal with a code.
/// </summary>
internal static class GraphQlCliResult
{
    public static JsonElement Data(string output, string what, params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(output);
        }
        catch (JsonException e)
        {
            throw new UnexpectedAnswerException(
                $"{what}: expected the GraphQL CLI's JSON, got '{ErlangTerms.Shorten(output.Trim())}' ({e.Message})"
            );
        }

        using (document)
        {
            var root = document.RootElement;
            if (
                root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0
            )
            {
                var first = errors[0];
                var message = first.TryGetProperty("message", out var m) ? m.GetString() : "error";
                var code =
                    first.TryGetProperty("extensions", out var ext) && ext.TryGetProperty("code", out var c)
                        ? c.GetString()
                        : null;
                throw new UnexpectedAnswerException($"{what}: {message}{(code is null ? string.Empty : $" ({code})")}");
            }

            var current = root;
            foreach (var segment in path.Prepend("data"))
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
                {
                    throw new UnexpectedAnswerException(
                        $"{what}: no data.{string.Join('.', path)} in '{ErlangTerms.Shorten(output.Trim())}'"
                    );
                }
            }

            return current.Clone();
        }
    }

    /// <summary>A non-negative whole number at <paramref name="path"/>, or a clear refusal.</summary>
    public static long Count(string output, string what, params string[] path)
    {
        var value = Data(output, what, path);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count >= 0
            ? count
            : throw new UnexpectedAnswerException(
                $"{what}: data.{string.Join('.', path)} is '{ErlangTerms.Shorten(value.ToString())}', not a count"
            );
    }

    /// <summary>
    /// A list of node names at <paramref name="key"/> of <paramref name="item"/> (missing or null: none).
    /// </summary>
    public static IReadOnlyList<string> Names(JsonElement item, string key, string what)
    {
        if (
            item.ValueKind != JsonValueKind.Object
            || !item.TryGetProperty(key, out var list)
            || list.ValueKind == JsonValueKind.Null
        )
        {
            return [];
        }

        if (
            list.ValueKind != JsonValueKind.Array
            || list.EnumerateArray().Any(n => n.ValueKind != JsonValueKind.String)
        )
        {
            throw new UnexpectedAnswerException(
                $"{what}: {key} should be a list of node names, got '{ErlangTerms.Shorten(list.ToString())}'"
            );
        }

        return list.EnumerateArray().Select(n => n.GetString()!).ToList();
    }

    /// <summary>A string member of <paramref name="item"/>, or null when it is missing or not a string.</summary>
    public static string? Text(JsonElement item, string name) =>
        item.ValueKind == JsonValueKind.Object
        && item.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>
    /// <c>mnesia systemInfo --keys '["running_db_nodes","db_nodes"]'</c>: stopped = db_nodes minus running.
    /// </summary>
    public static Membership Membership(string output)
    {
        var info = Data(output, "mnesia systemInfo", "mnesia", "systemInfo");
        // Without --keys the answer holds every mnesia property: strings, numbers and lists; three are read.
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (info.ValueKind != JsonValueKind.Array)
        {
            throw new UnexpectedAnswerException(
                $"mnesia systemInfo: expected a list of {{key, result}}, got '{ErlangTerms.Shorten(info.ToString())}'"
            );
        }

        foreach (var item in info.EnumerateArray())
        {
            if (
                Text(item, "key") is not ("running_db_nodes" or "db_nodes" or "local_tables")
                || item.ValueKind != JsonValueKind.Object
            )
            {
                continue;
            }

            if (
                !item.TryGetProperty("result", out var result)
                || result.ValueKind != JsonValueKind.Array
                || result.EnumerateArray().Any(n => n.ValueKind != JsonValueKind.String)
            )
            {
                throw new UnexpectedAnswerException(
                    $"mnesia systemInfo: {Text(item, "key")} should be a list of names, got '"
                        + $"{ErlangTerms.Shorten(item.ToString())}'"
                );
            }

            lists[Text(item, "key")!] = result.EnumerateArray().Select(n => n.GetString()!).ToList();
        }

        if (!lists.TryGetValue("running_db_nodes", out var running))
        {
            throw new UnexpectedAnswerException("mnesia systemInfo: no running_db_nodes in the answer");
        }

        var all = lists.GetValueOrDefault("db_nodes") ?? running;
        return new Membership(running, all.Except(running, StringComparer.Ordinal).ToList())
        {
            LocalTables = lists.GetValueOrDefault("local_tables")?.Where(t => t != "schema").ToList(),
        };
    }
}
