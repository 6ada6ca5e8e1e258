using System.Text.Json;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Rendering;

/// <summary>
/// One JSON object per event on stdout, for machines (docs/events.schema.json): first a header (the schema version,
/// the tool and its version, the run, the plan's fingerprint), then each event with the run it belongs to.
/// </summary>
internal sealed class JsonEventWriter(TextWriter output, SecretRedactor redactor, string? fingerprint = null)
    : IRunObserver
{
    /// <summary>The version of the event format; a change that breaks a reader raises it.</summary>
    public const int SchemaVersion = 1;

    private readonly Lock _gate = new();
    private bool _headerWritten;

    public void OnEvent(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        var line = JsonSerializer.Serialize(
            new
            {
                type = runEvent.Type,
                at = runEvent.At,
                run = runEvent.RunId,
                step = runEvent.Step,
                total_steps = runEvent.TotalSteps,
                node = runEvent.Node,
                phase = runEvent.Phase,
                message = redactor.Redact(runEvent.Message),
                data = runEvent.Data?.ToDictionary(kv => kv.Key, kv => redactor.Redact(kv.Value)),
            }
        );
        lock (_gate)
        {
            WriteHeader(runEvent.RunId);
            output.WriteLine(line);
            output.Flush();
        }
    }

    /// <summary>A line the command writes itself (the outcome, the report's path), after the header.</summary>
    public void Write(string type, string? runId, IReadOnlyDictionary<string, object?> fields)
    {
        var line = new Dictionary<string, object?> { ["type"] = type, ["run"] = runId };
        foreach (var (key, value) in fields)
        {
            line[key] = value;
        }

        lock (_gate)
        {
            WriteHeader(runId);
            output.WriteLine(JsonSerializer.Serialize(line));
            output.Flush();
        }
    }

    private void WriteHeader(string? runId)
    {
        if (_headerWritten)
        {
            return;
        }

        _headerWritten = true;
        output.WriteLine(
            JsonSerializer.Serialize(
                new
                {
                    type = "header",
                    schema = SchemaVersion,
                    tool = "rollingupgrade",
                    tool_version = ToolVersion,
                    run = runId,
                    plan_fingerprint = fingerprint,
                }
            )
        );
    }

    private static string ToolVersion => typeof(JsonEventWriter).Assembly.GetName().Version?.ToString(3) ?? "unknown";
}
