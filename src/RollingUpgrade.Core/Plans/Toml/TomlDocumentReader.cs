using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace RollingUpgrade.Plans.Toml;

/// <summary>
/// Reads TOML text into a tree of <see cref="TomlNode"/> that keeps every key's and value's
/// position. Tomlyn gives the syntax tree; table and key semantics are applied here so that
/// duplicate keys and redefined tables are reported with both places.
/// </summary>
public static class TomlDocumentReader
{
    /// <summary>Where arrays and inline tables first nest deeper than the parser's limit (outside strings).</summary>
    private static SourceLocation DeepestPoint(string text, string fileName)
    {
        int line = 1,
            column = 1,
            depth = 0;
        char? quote = null;
        foreach (var c in text)
        {
            if (quote is { } q)
            {
                quote = c == q ? null : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c is '[' or '{' && ++depth > 64)
            {
                return new SourceLocation(fileName, line, column);
            }
            else if (c is ']' or '}')
            {
                depth--;
            }

            (line, column) = c == '\n' ? (line + 1, 1) : (line, column + 1);
        }

        return new SourceLocation(fileName, 1, 1);
    }

    public static TomlTableNode Read(string text, string fileName, List<PlanDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        DocumentSyntax document;
        try
        {
            document = SyntaxParser.Parse(text, fileName, true);
        }
        catch (TomlException e)
        {
            // Nesting deeper than the parser allows (a hostile plan of a kilobyte): said where, not thrown.
            _ = e;
            diagnostics.Add(
                new PlanDiagnostic(
                    DeepestPoint(text, fileName),
                    "arrays and inline tables nest deeper than 64 levels here; a plan never needs that"
                )
            );
            return new TomlTableNode(new SourceLocation(fileName, 1, 1));
        }

        var root = new TomlTableNode(new SourceLocation(fileName, 1, 1));
        foreach (var message in document.Diagnostics)
        {
            if (message.Kind == DiagnosticMessageKind.Error)
            {
                diagnostics.Add(
                    new PlanDiagnostic(
                        Locate(fileName, message.Span.Start),
                        $"TOML syntax error: {message.Message.Replace('\u2424', ' ')}"
                    )
                );
            }
        }

        if (document.HasErrors)
        {
            return root;
        }

        var builder = new Builder(fileName, diagnostics);
        foreach (var keyValue in document.KeyValues)
        {
            builder.AddKeyValue(root, keyValue);
        }

        foreach (var table in document.Tables)
        {
            builder.AddTable(root, table);
        }

        return root;
    }

    internal static SourceLocation Locate(string fileName, TextPosition position) =>
        new(fileName, position.Line + 1, position.Column + 1);

    private sealed class Builder(string fileName, List<PlanDiagnostic> diagnostics)
    {
        public void AddTable(TomlTableNode root, TableSyntaxBase syntax)
        {
            if (syntax.Name is null)
            {
                return;
            }

            var location = Locate(fileName, syntax.Span.Start);
            var path = KeyParts(syntax.Name);
            var parent = root;
            for (var i = 0; i < path.Count - 1; i++)
            {
                var next = Descend(parent, path[i], location, allowTableArrays: true);
                if (next is null)
                {
                    return;
                }

                parent = next;
            }

            var last = path[^1];
            TomlTableNode target;
            if (syntax is TableArraySyntax)
            {
                if (!parent.TryGet(last, out var existing))
                {
                    var array = new TomlArrayNode(location) { IsTableArray = true };
                    parent.Add(new TomlTableEntry(last, location, array));
                    existing = parent.Entries.Last();
                }

                if (existing.Value is not TomlArrayNode { IsTableArray: true } tableArray)
                {
                    Report(
                        location,
                        $"'{Join(path)}' is already defined at {existing.KeyLocation.LineText} as "
                            + $"{existing.Value.TypeName}; an array of tables needs a name of its own"
                    );
                    return;
                }

                target = new TomlTableNode(location);
                tableArray.Items.Add(target);
            }
            else
            {
                if (parent.TryGet(last, out var existing))
                {
                    if (existing.Value is TomlTableNode { IsImplicit: true, IsSealed: false } implicitTable)
                    {
                        implicitTable.IsImplicit = false;
                        target = implicitTable;
                    }
                    else
                    {
                        Report(
                            location,
                            $"table [{Join(path)}] is defined twice (first at {existing.KeyLocation.LineText}); "
                                + $"merge the two into one"
                        );
                        return;
                    }
                }
                else
                {
                    if (parent.IsSealed)
                    {
                        Report(location, $"table [{Join(path)}] extends an inline table; inline tables are closed");
                        return;
                    }

                    target = new TomlTableNode(location);
                    parent.Add(new TomlTableEntry(last, location, target));
                }
            }

            foreach (var keyValue in syntax.Items)
            {
                AddKeyValue(target, keyValue);
            }
        }

        public void AddKeyValue(TomlTableNode table, KeyValueSyntax syntax)
        {
            if (syntax.Key is null || syntax.Value is null)
            {
                return;
            }

            var keyLocation = Locate(fileName, syntax.Key.Span.Start);
            var parts = KeyParts(syntax.Key);
            var parent = table;
            for (var i = 0; i < parts.Count - 1; i++)
            {
                var next = Descend(parent, parts[i], keyLocation, allowTableArrays: false);
                if (next is null)
                {
                    return;
                }

                parent = next;
            }

            var key = parts[^1];
            if (parent.TryGet(key, out var existing))
            {
                Report(
                    keyLocation,
                    $"duplicate key '{key}' (first defined at {existing.KeyLocation.LineText}); keep one of them"
                );
                return;
            }

            var value = Convert(syntax.Value);
            if (value is not null)
            {
                parent.Add(new TomlTableEntry(key, keyLocation, value));
            }
        }

        private TomlTableNode? Descend(TomlTableNode parent, string key, SourceLocation location, bool allowTableArrays)
        {
            if (!parent.TryGet(key, out var entry))
            {
                var created = new TomlTableNode(location) { IsImplicit = true };
                parent.Add(new TomlTableEntry(key, location, created));
                return created;
            }

            switch (entry.Value)
            {
                case TomlTableNode child when !child.IsSealed:
                    return child;
                case TomlArrayNode { IsTableArray: true } array when allowTableArrays && array.Items.Count > 0:
                    return (TomlTableNode)array.Items[^1];
                default:
                    Report(
                        location,
                        $"'{key}' is already {entry.Value.TypeName} (defined at {entry.KeyLocation.LineText}) and "
                            + $"cannot hold more keys"
                    );
                    return null;
            }
        }

        private TomlNode? Convert(ValueSyntax syntax)
        {
            var location = Locate(fileName, syntax.Span.Start);
            switch (syntax)
            {
                case StringValueSyntax s:
                    return new TomlValueNode(location, s.Value ?? string.Empty);
                case IntegerValueSyntax i:
                    return new TomlValueNode(location, i.Value);
                case FloatValueSyntax f:
                    return new TomlValueNode(location, f.Value);
                case BooleanValueSyntax b:
                    return new TomlValueNode(location, b.Value);
                case DateTimeValueSyntax d:
                    return new TomlValueNode(location, d.ToString().Trim());
                case ArraySyntax a:
                    var array = new TomlArrayNode(location);
                    foreach (var item in a.Items)
                    {
                        if (item.Value is not null && Convert(item.Value) is { } converted)
                        {
                            array.Items.Add(converted);
                        }
                    }

                    return array;
                case InlineTableSyntax t:
                    var table = new TomlTableNode(location);
                    foreach (var item in t.Items)
                    {
                        if (item.KeyValue is not null)
                        {
                            AddKeyValue(table, item.KeyValue);
                        }
                    }

                    table.IsSealed = true;
                    return table;
                default:
                    Report(location, $"unsupported TOML value '{syntax}'");
                    return null;
            }
        }

        private static List<string> KeyParts(KeySyntax key)
        {
            var parts = new List<string> { KeyText(key.Key) };
            foreach (var dotted in key.DotKeys)
            {
                parts.Add(KeyText(dotted.Key));
            }

            return parts;
        }

        private static string KeyText(BareKeyOrStringValueSyntax? key) =>
            key switch
            {
                BareKeySyntax bare => bare.Key?.Text ?? string.Empty,
                StringValueSyntax quoted => quoted.Value ?? string.Empty,
                _ => string.Empty,
            };

        private static string Join(List<string> path) => string.Join('.', path);

        private void Report(SourceLocation location, string message) =>
            diagnostics.Add(new PlanDiagnostic(location, message));
    }
}
