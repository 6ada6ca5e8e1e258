using System.Xml.Linq;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>
/// Turns structures the API returned as XML back into Query parameters, the way the Query
/// protocol encodes them: a list is <c>Name.member.N</c> (1-based), a nested structure adds
/// <c>.Field</c>, a value is a leaf. This is what lets a listener's actions be sent back whole.
/// </summary>
internal static class QueryEncoding
{
    public static IEnumerable<KeyValuePair<string, string>> Flatten(string listName, IReadOnlyList<XElement> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        for (var i = 0; i < members.Count; i++)
        {
            foreach (var pair in FlattenElement($"{listName}.member.{i + 1}", members[i]))
            {
                yield return pair;
            }
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> FlattenElement(string prefix, XElement element)
    {
        if (!element.HasElements)
        {
            // An empty element (an empty list, an unset field) is left out, as the API itself does.
            if (element.Value.Length > 0)
            {
                yield return new(prefix, element.Value);
            }

            yield break;
        }

        foreach (var child in element.Elements())
        {
            var name = child.Name.LocalName;
            if (child.HasElements && child.Elements().All(e => e.Name.LocalName == "member"))
            {
                var items = child.Elements().ToList();
                for (var i = 0; i < items.Count; i++)
                {
                    foreach (var pair in FlattenElement($"{prefix}.{name}.member.{i + 1}", items[i]))
                    {
                        yield return pair;
                    }
                }
            }
            else
            {
                foreach (var pair in FlattenElement($"{prefix}.{name}", child))
                {
                    yield return pair;
                }
            }
        }
    }
}
