using System.Security.Cryptography;
using System.Text;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Plans.Toml;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.Plans;

/// <summary>Reads, binds and validates a plan file. Nothing is touched while doing so.</summary>
public static class PlanLoader
{
    public const long MaxPlanBytes = 1 << 20;

    public static PlanLoadResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var shown = path;
        var start = new SourceLocation(shown, 1, 1);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Fail(start, "plan file not found; give the path of a .toml plan (see deploy/examples/)");
            }

            if (info.Length > MaxPlanBytes)
            {
                return Fail(start, $"plan file is {info.Length} bytes; a plan is at most {MaxPlanBytes} bytes");
            }

            var bytes = File.ReadAllBytes(path);
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return Fail(start, "plan file is not valid UTF-8 text");
            }

            return Load(text, shown);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(start, $"cannot read the plan file: {e.Message}");
        }
    }

    public static PlanLoadResult Load(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sink = new DiagnosticSink();
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            sink.Error(new SourceLocation(fileName, 1, 1), "plan file holds a NUL byte; it must be TOML text");
            return new PlanLoadResult(null, sink.Sorted());
        }

        var parseErrors = new List<PlanDiagnostic>();
        var root = TomlDocumentReader.Read(text, fileName, parseErrors);
        sink.AddRange(parseErrors);
        if (sink.HasErrors)
        {
            return new PlanLoadResult(null, sink.Sorted());
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var binder = new PlanBinder(sink);
        var plan = binder.Bind(root, fileName, fingerprint, text);
        if (plan is not null)
        {
            new PlanRules(sink, binder.NodeLocations, binder.DeclaredLoadBalancers, binder.DeclaredNodes).Check(plan);
        }

        return new PlanLoadResult(sink.HasErrors ? null : plan, sink.Sorted());
    }

    private static PlanLoadResult Fail(SourceLocation location, string message) =>
        new(null, [new PlanDiagnostic(location, message)]);
}
