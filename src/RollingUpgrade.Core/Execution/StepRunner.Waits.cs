using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    private static async Task PauseAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var length = context.Plan.Strategy switch
        {
            RollingStrategySpec rolling => rolling.PauseBetweenNodes,
            ParallelStrategySpec parallel when step.Side == "blue" => parallel.KeepOldClusterFor,
            ParallelStrategySpec parallel => parallel.StepPause,
            _ => TimeSpan.Zero,
        };

        // On resume the pause counts from when it first began, not from now.
        var remaining = context.StepStartedAt + length - context.Time.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            context.Emit(RunEventTypes.Progress, $"pausing {Plans.Binding.DurationText.Format(TimeSpan.FromSeconds(Math.Ceiling(remaining.TotalSeconds)))}", step);
            await Task.Delay(remaining, context.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for <c>rollingupgrade promote</c>, which writes the promoted percentage into the state folder.</summary>
    private static async Task AwaitPromoteAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var percent = step.GreenPercent ?? 0;
        context.Emit(RunEventTypes.Progress, $"waiting at {percent}% green; run `rollingupgrade promote {context.Plan.SourcePath}` to go on, or `rollingupgrade rollback {context.Plan.SourcePath}` to go back", step);
        while (true)
        {
            var path = context.State.PromotePath;
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var promoted) && promoted >= percent)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), context.Time, cancellationToken).ConfigureAwait(false);
        }
    }
}
