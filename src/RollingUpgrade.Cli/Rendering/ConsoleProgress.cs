using RollingUpgrade.Events;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Cli.Rendering;

/// <summary>
/// The human story of a run: one line per step and per noteworthy moment, and a heartbeat line while a step waits;
/// quiet, only warnings and failures (the outcome is printed by the command).
/// </summary>
internal sealed class ConsoleProgress(TextWriter output, SecretRedactor redactor, bool quiet = false) : IRunObserver
{
    private readonly Lock _gate = new();

    public void OnEvent(RunEvent runEvent)
    {
        if (quiet && runEvent.Type is not (RunEventTypes.Warning or RunEventTypes.StepFailed))
        {
            return;
        }

        var time = runEvent.At.ToLocalTime().ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        var step = runEvent.Step is { } n ? $"[{n}/{runEvent.TotalSteps}]" : string.Empty;
        var phase = runEvent.Phase == "rollback" ? " rollback" : string.Empty;
        var text = runEvent.Type switch
        {
            RunEventTypes.StepStarted => $"{time} {step}{phase} {runEvent.Message} ...",
            RunEventTypes.StepSucceeded => $"{time} {step}{phase} done",
            RunEventTypes.StepFailed => $"{time} {step}{phase} FAILED: {runEvent.Message}",
            RunEventTypes.StepSkipped => $"{time} {step}{phase} already done: {runEvent.Message}",
            RunEventTypes.Warning => $"{time} {step} warning: {runEvent.Message}",
            RunEventTypes.RunFinished or RunEventTypes.Sample => null,
            _ => $"{time} {step} {runEvent.Message}",
        };
        if (text is null)
        {
            return;
        }

        lock (_gate)
        {
            output.WriteLine(redactor.Redact(text.Replace("  ", " ", StringComparison.Ordinal)));
            output.Flush();
        }
    }
}
