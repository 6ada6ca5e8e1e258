using System.Text.Json;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Rendering;

/// <summary>One JSON object per event on stdout, for machines.</summary>
internal sealed class JsonEventWriter(TextWriter output, SecretRedactor redactor) : IRunObserver
{
    private readonly Lock _gate = new();

    public void OnEvent(RunEvent runEvent)
    {
        var line = JsonSerializer.Serialize(
            new
            {
                type = runEvent.Type,
                at = runEvent.At,
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
            output.WriteLine(line);
            output.Flush();
        }
    }
}
