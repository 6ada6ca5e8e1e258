using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Binding;

namespace RollingUpgrade.Execution;

/// <summary>
/// While a step runs, says every <see cref="RunContext.HeartbeatInterval"/> that it still does, what it waits for
/// (<see cref="RunContext.Waiting"/>), where that stands and how long is left: a drain of several minutes, a start,
/// a pause or a long command never goes silent in logs and CI output.
/// </summary>
internal sealed class Heartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private Heartbeat(RunContext context, Step step, TimeSpan interval) =>
        _loop = BeatAsync(context, step, interval, _stop.Token);

    public static Heartbeat? Start(RunContext context, Step step) =>
        context.HeartbeatInterval is { } interval && interval > TimeSpan.Zero
            ? new Heartbeat(context, step, interval)
            : null;

    private static async Task BeatAsync(RunContext context, Step step, TimeSpan interval, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, context.Time, stop).ConfigureAwait(false);
                context.Emit(RunEventTypes.Heartbeat, Describe(context, step), step, Data(context));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The step ended.
        }
    }

    /// <summary>"still waiting for ej1's live connections: 4 at the load balancers; 12s elapsed, 3m48s left".</summary>
    public static string Describe(RunContext context, Step step)
    {
        var now = context.Time.GetUtcNow();
        var elapsed = DurationText.Format(Round(now - context.StepStartedAt));
        var text = context.Waiting is { } waiting
            ? $"still waiting for {waiting.What}{(waiting.Now is { } counts ? $": {counts}" : string.Empty)}"
            : $"still running: {step.Description}";
        var then = context.Waiting?.Then is { } next ? $" (then {next})" : string.Empty;
        var left =
            context.Waiting?.Until is { } until && until > now
                ? $", {DurationText.Format(Round(until - now))} left{then}"
                : string.Empty;
        return $"{text}; {elapsed} elapsed{left}";
    }

    private static Dictionary<string, string> Data(RunContext context)
    {
        var now = context.Time.GetUtcNow();
        var data = new Dictionary<string, string> { ["elapsed_s"] = Seconds(now - context.StepStartedAt) };
        if (context.Waiting?.Until is { } until)
        {
            data["left_s"] = Seconds(until - now);
        }

        return data;
    }

    private static string Seconds(TimeSpan span) =>
        ((long)Round(span).TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private static TimeSpan Round(TimeSpan span) => TimeSpan.FromSeconds(Math.Max(0, Math.Round(span.TotalSeconds)));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
