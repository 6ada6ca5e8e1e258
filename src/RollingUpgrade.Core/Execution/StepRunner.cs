using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Execution;

/// <summary>
/// Runs one step through the ports and tells, for resume, whether its post-state already holds
/// and whether running it again is safe.
/// </summary>
internal sealed partial class StepRunner
{
    public static bool IsIdempotent(Step step, Plan plan) =>
        step.Kind switch
        {
            StepKind.Install or StepKind.ChangeConfig or StepKind.RollbackInstall or StepKind.ProvisionGreen =>
                plan.Upgrade.InstallIsIdempotent,
            _ => true,
        };

    public Task ExecuteAsync(Step step, RunContext context, CancellationToken cancellationToken) =>
        step.Kind switch
        {
            StepKind.CheckCluster => CheckClusterAsync(step, context, cancellationToken),
            StepKind.ListMigrations => ListMigrationsAsync(step, context),
            StepKind.Drain => DrainAsync(step, context, cancellationToken),
            StepKind.WaitDrained => WaitDrainedAsync(step, context, cancellationToken),
            StepKind.Stop or StepKind.StopBlue => StopAsync(step, context, cancellationToken),
            StepKind.BackupConfig => BackupConfigAsync(step, context, cancellationToken),
            StepKind.RestoreConfig => RestoreConfigAsync(step, context, cancellationToken),
            StepKind.Install => InstallAsync(step, context, cancellationToken),
            StepKind.ChangeConfig => RunNodeCommandAsync(
                step,
                context,
                context.Plan.Upgrade.ConfigChange!,
                cancellationToken
            ),
            StepKind.RollbackInstall => RunNodeCommandAsync(
                step,
                context,
                context.Plan.Upgrade.RollbackInstall!,
                cancellationToken
            ),
            StepKind.Start => StartAsync(step, context, cancellationToken),
            StepKind.VerifyNode => VerifyNodeAsync(step, context, cancellationToken),
            StepKind.RunGates => RunGatesAsync(step, context, cancellationToken),
            StepKind.Enable => EnableAsync(step, context, cancellationToken),
            StepKind.PreferUpgraded => PreferUpgradedAsync(step, context, cancellationToken),
            StepKind.Pause => PauseAsync(step, context, cancellationToken),
            StepKind.VerifyCluster => VerifyClusterAsync(step, context, cancellationToken),
            StepKind.ProvisionGreen => ProvisionGreenAsync(step, context, cancellationToken),
            StepKind.JoinGreen => JoinGreenAsync(step, context, cancellationToken),
            StepKind.VerifyGreen => VerifyGreenAsync(step, context, cancellationToken),
            StepKind.RegisterGreen or StepKind.ShiftTraffic => ShiftTrafficAsync(step, context, cancellationToken),
            StepKind.AwaitPromote => AwaitPromoteAsync(step, context, cancellationToken),
            _ => throw new InvalidOperationException($"no runner for {step.Kind}"),
        };

    /// <summary>
    /// True when the step's effect can be read back and holds; false when it does not or cannot be read.
    /// </summary>
    public async Task<bool> PostStateHoldsAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        switch (step.Kind)
        {
            case StepKind.Drain:
                return await ServerStateIsAsync(step, context, Ports.ServerAdminState.Drain, cancellationToken)
                    .ConfigureAwait(false);
            case StepKind.Enable:
                return await ServerStateIsAsync(step, context, Ports.ServerAdminState.Ready, cancellationToken)
                    .ConfigureAwait(false);
            case StepKind.Stop or StepKind.StopBlue:
                var stopped = await context
                    .Product.StatusAsync(context.Node(step.Node!), cancellationToken)
                    .ConfigureAwait(false);
                return stopped.State == Ports.NodeRunState.Stopped;
            case StepKind.Start:
                var started = await context
                    .Product.StatusAsync(context.Node(step.Node!), cancellationToken)
                    .ConfigureAwait(false);
                return started.IsRunning;
            case StepKind.BackupConfig:
                return await BackupMatchesAsync(step, context, cancellationToken).ConfigureAwait(false);
            case StepKind.ProvisionGreen:
                var green = await context
                    .Product.StatusAsync(context.Node(step.Node!), cancellationToken)
                    .ConfigureAwait(false);
                return green.IsRunning
                    && green.Version is { } v
                    && Versions.Matches(v, step.ExpectedVersion ?? step.Version);
            default:
                return false;
        }
    }
}
