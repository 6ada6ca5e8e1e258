using System.Globalization;
using System.Text.Json;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// A small JSON path: <c>$.data.server.status.version</c>, <c>$.items[0].name</c>, <c>$.nodes[*]</c>.
/// Returns the matched scalars as strings.
/// </summary>
internal static class JsonPathReader
{
    public static List<string> Read(string json, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UnexpectedAnswerException($"expected JSON, got: {e.Message}");
        }

        using (document)
        {
            var current = new List<JsonElement> { document.RootElement };
            foreach (var segment in Segments(path))
            {
                var next = new List<JsonElement>();
                foreach (var element in current)
                {
                    if (segment == "*" && element.ValueKind == JsonValueKind.Array)
                    {
                        next.AddRange(element.EnumerateArray());
                    }
                    else if (
                        int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                        && element.ValueKind == JsonValueKind.Array
                        && index < element.GetArrayLength()
                    )
                    {
                        next.Add(element[index]);
                    }
                    else if (
                        element.ValueKind == JsonValueKind.Object
                        && element.TryGetProperty(segment, out var child)
                    )
                    {
                        next.Add(child);
                    }
                }

                current = next;
            }

            return current.SelectMany(Flatten).ToList();
        }
    }

    private static IEnumerable<string> Flatten(JsonElement element) =>
        element.ValueKind switch
        {
            JsonValueKind.Array => element.EnumerateArray().SelectMany(Flatten),
            JsonValueKind.String => [element.GetString()!],
            JsonValueKind.Null or JsonValueKind.Undefined => [],
            _ => [element.GetRawText()],
        };

    private static IEnumerable<string> Segments(string path)
    {
        var trimmed = path.StartsWith('$') ? path[1..] : path;
        foreach (var part in trimmed.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            if (bracket < 0)
            {
                yield return part;
                continue;
            }

            if (bracket > 0)
            {
                yield return part[..bracket];
            }

            foreach (var index in part[bracket..].Split(['[', ']'], StringSplitOptions.RemoveEmptyEntries))
            {
                yield return index;
            }
        }
    }
}
