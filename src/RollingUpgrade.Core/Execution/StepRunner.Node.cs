using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    private static Task WaitDrainedAsync(Step step, RunContext context, CancellationToken cancellationToken) =>
        DrainWaiter.WaitAsync(step, context, context.Node(step.Node!), cancellationToken);

    private static async Task StopAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        if (await context.Product.RunStateAsync(node, cancellationToken).ConfigureAwait(false) == NodeRunState.Stopped)
        {
            context.Emit(RunEventTypes.Progress, $"{node.Name} is already stopped", step);
            return;
        }

        await ExpectRedundancyBeforeStopAsync(step, context, node, cancellationToken).ConfigureAwait(false);
        await EnsureOutOfRotationAsync(step, context, node, cancellationToken).ConfigureAwait(false);
        await context.Product.StopAsync(node, cancellationToken).ConfigureAwait(false);
        var after = await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false);
        if (after.State != NodeRunState.Stopped)
        {
            throw new StepFailedException($"{node.Name} still reports {after.State} after stop ({after.Detail})");
        }
    }

    /// <summary>
    /// Right before a stop: the node must still be out of rotation in every load balancer. One
    /// that lost the drain (restarted, reloaded without a state file, a peer replaced) has it back
    /// in rotation; it is drained again and its connections waited for, as the plan says.
    /// </summary>
    private static async Task EnsureOutOfRotationAsync(
        Step step,
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        var back = new List<ILoadBalancer>();
        foreach (var lb in context.LoadBalancers)
        {
            var states = await lb.ReadAsync([node], cancellationToken).ConfigureAwait(false);
            if (states.Any(s => s.Admin == ServerAdminState.Ready))
            {
                back.Add(lb);
            }
        }

        if (back.Count == 0)
        {
            return;
        }

        await DrainWaiter.DrainAgainAsync(step, context, node, back, cancellationToken).ConfigureAwait(false);
        await DrainWaiter.WaitAsync(step, context, node, cancellationToken).ConfigureAwait(false);
    }

    private static async Task StartAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        var before = await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false);
        if (!before.IsRunning)
        {
            context.Waiting = new WaitStatus(
                $"{node.Name} to report started",
                Until: context.Time.GetUtcNow() + context.Plan.Product.StartTimeout,
                Then: "the step fails"
            );
            using var timeout = context.Time.Timeout(context.Plan.Product.StartTimeout, cancellationToken);
            try
            {
                await context.Product.StartAsync(node, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.TimedOut)
            {
                Diagnostics.EngineLog.TimedOut(
                    context.Log,
                    "start",
                    node.Name,
                    DurationText.Format(context.Plan.Product.StartTimeout)
                );
                throw new StepFailedException(
                    $"{node.Name} did not report started within "
                        + $"{DurationText.Format(context.Plan.Product.StartTimeout)}"
                );
            }
        }

        // The first node started on the target begins the mixed-version window.
        if (
            step.Phase == RunPhase.Forward
            && step.ExpectedVersion is not null
            && context.Facts.Get(RunState.MixedSince) is null
        )
        {
            context.Fact(
                RunState.MixedSince,
                context.Time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture)
            );
        }
    }

    private static async Task VerifyNodeAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        var status = await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false);
        if (!status.IsRunning)
        {
            throw new StepFailedException($"{node.Name} is not started after start ({status.Detail})");
        }

        if (
            step.ExpectedVersion is { } expectedVersion
            && !Versions.Matches(status.Version ?? string.Empty, expectedVersion)
        )
        {
            throw new StepFailedException(
                $"{node.Name} reports version '{status.Version}' after start; expected {expectedVersion}"
            );
        }

        await ExpectMembershipAsync(context, node, context.Blue, nodeTouched: true, cancellationToken)
            .ConfigureAwait(false);
        context.Emit(RunEventTypes.Progress, $"{node.Name}: started, version {status.Version}, membership exact", step);
    }

    private static async Task RunNodeCommandAsync(
        Step step,
        RunContext context,
        CommandTemplate template,
        CancellationToken cancellationToken
    )
    {
        var node = context.Node(step.Node!);
        var argv = template.Render(context.Values.For(node));
        await using var shell = context.Shells.For(node);
        var result = await shell.RunAsync(argv, context.CommandOptions(), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new StepFailedException(
                $"'{ShellQuote.Display(argv)}' on {node.Name} exited with {result.ExitCode}: {result.Tail()}"
            );
        }
    }

    /// <summary>
    /// Copies $1 to $2 keeping mode and times, then compares them, in one round trip to the node:
    /// exit 0 when $2 already held $1 (with SkipWhenSame), 10 after copying and comparing, 11 when
    /// cp failed, 12 when the copy differs.
    /// </summary>
    internal static IReadOnlyList<string> CopyAndCompare(string from, string to, bool skipWhenSame) =>
        [
            "sh",
            "-c",
            (skipWhenSame ? "if cmp -s -- \"$1\" \"$2\"; then exit 0; fi; " : string.Empty)
                + "cp -p -- \"$1\" \"$2\" || exit 11; cmp -s -- \"$1\" \"$2\" || exit 12; exit 10",
            "rollingupgrade-copy",
            from,
            to,
        ];

    /// <summary>
    /// Every file the node reads at start into this run's backup folder on the node, compared; older runs' folders
    /// beyond upgrade.backup_keep are removed.
    /// </summary>
    private static async Task BackupConfigAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        if (context.Values.LegacyBackup(node) is { } legacy)
        {
            await CopyCheckedAsync(context, node, context.Plan.ConfigPathOf(node)!, legacy, true, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var folder = context.BackupFolder(node);
        var files = context.Plan.ConfigFilesOf(node);
        await using var shell = context.Shells.For(node);
        var result = await shell
            .RunAsync(
                ConfigBackup.Save(folder, context.Plan.Upgrade.BackupKeep, files),
                context.CommandOptions(),
                cancellationToken
            )
            .ConfigureAwait(false);
        if (result.ExitCode is not (0 or 10))
        {
            throw new StepFailedException(
                $"{node.Name}: backing up {string.Join(", ", files.Select(f => f.Path))} into {folder} failed "
                    + $"(exit {result.ExitCode}): {result.Summary()}"
            );
        }

        var removed = result
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("removed ", StringComparison.Ordinal))
            .ToList();
        context.Emit(
            RunEventTypes.Progress,
            $"{node.Name}: "
                + (result.ExitCode == 0 ? $"{folder} already holds the config" : $"config backed up in {folder}")
                + (removed.Count > 0 ? $"; {removed.Count} older run(s)' backups removed (backup_keep)" : string.Empty),
            step
        );
        context.Fact(RunState.BackupKey(node.Name), context.BackupPath(node));
    }

    private static async Task RestoreConfigAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        if (context.Values.LegacyBackup(node) is { } legacy)
        {
            await CopyCheckedAsync(context, node, legacy, context.Plan.ConfigPathOf(node)!, false, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var folder = context.BackupFolder(node);
        await using var shell = context.Shells.For(node);
        var result = await shell
            .RunAsync(
                ConfigBackup.Restore(folder, context.Plan.ConfigFilesOf(node)),
                context.CommandOptions(),
                cancellationToken
            )
            .ConfigureAwait(false);
        if (result.ExitCode != 10)
        {
            throw new StepFailedException(
                $"{node.Name}: restoring the config from {folder} failed (exit {result.ExitCode}): {result.Summary()}"
            );
        }
    }

    /// <summary>
    /// Copies and compares on the node; true when <paramref name="to"/> already held <paramref name="from"/>.
    /// </summary>
    private static async Task<bool> CopyCheckedAsync(
        RunContext context,
        NodeSpec node,
        string from,
        string to,
        bool skipWhenSame,
        CancellationToken cancellationToken
    )
    {
        await using var shell = context.Shells.For(node);
        var result = await shell
            .RunAsync(CopyAndCompare(from, to, skipWhenSame), context.CommandOptions(), cancellationToken)
            .ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 when skipWhenSame => true,
            10 => false,
            11 => throw new StepFailedException($"{node.Name}: copying {from} to {to} failed: {result.Summary()}"),
            12 => throw new StepFailedException($"{node.Name}: {to} differs from {from} after copying"),
            _ => throw new StepFailedException(
                $"{node.Name}: copying {from} to {to} ended with exit code {result.ExitCode}: {result.Summary()}"
            ),
        };
    }

    /// <summary>
    /// Installs, then compares the config with the backup taken before: a package that replaced it (a .deb
    /// conffile prompt answered "install the maintainer's version", an RPM without %config(noreplace)) is said,
    /// or halts the run by upgrade.on_config_overwritten.
    /// </summary>
    private static async Task InstallAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        await RunNodeCommandAsync(step, context, context.Plan.Upgrade.Install!, cancellationToken)
            .ConfigureAwait(false);
        var node = context.Node(step.Node!);
        if (!context.Plan.Upgrade.BackupConfig || context.Plan.ConfigPathOf(node) is null)
        {
            return;
        }

        var changed = await ChangedSinceBackupAsync(context, node, cancellationToken).ConfigureAwait(false);
        if (changed is not { Count: > 0 })
        {
            return;
        }

        var where = context.Values.LegacyBackup(node) ?? context.BackupFolder(node);
        var message =
            $"{node.Name}: the install changed {string.Join(", ", changed)}; the files from before are in {where}";
        if (context.Plan.Upgrade.OnConfigOverwritten == "halt")
        {
            throw new StepFailedException(
                message + " (upgrade.on_config_overwritten = \"halt\"): compare them, keep the right one, then resume"
            );
        }

        context.Emit(RunEventTypes.Warning, message + "; check that the new one is what you want", step);
    }

    private static async Task<bool> BackupMatchesAsync(
        Step step,
        RunContext context,
        CancellationToken cancellationToken
    ) =>
        await ChangedSinceBackupAsync(context, context.Node(step.Node!), cancellationToken).ConfigureAwait(false)
            is { Count: 0 };

    /// <summary>The files that differ from this run's backup; null when there is no backup of config_path.</summary>
    private static async Task<IReadOnlyList<string>?> ChangedSinceBackupAsync(
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        await using var shell = context.Shells.For(node);
        var config = context.Plan.ConfigPathOf(node)!;
        if (context.Values.LegacyBackup(node) is { } legacy)
        {
            var same = await shell
                .RunAsync(["cmp", "-s", "--", config, legacy], context.CommandOptions(), cancellationToken)
                .ConfigureAwait(false);
            return same.Succeeded ? [] : [config];
        }

        var result = await shell
            .RunAsync(
                ConfigBackup.Changed(context.BackupFolder(node), context.Plan.ConfigFilesOf(node)),
                context.CommandOptions(),
                cancellationToken
            )
            .ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null;
    }

    private static async Task ProvisionGreenAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        var strategy = (ParallelStrategySpec)context.Plan.Strategy;
        foreach (var command in strategy.Provision)
        {
            await RunNodeCommandAsync(step, context, command, cancellationToken).ConfigureAwait(false);
        }

        if (strategy.Start is not null)
        {
            await RunNodeCommandAsync(step, context, strategy.Start, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await context.Product.StartAsync(node, cancellationToken).ConfigureAwait(false);
        }

        var status = await WaitRunningAsync(context, node, cancellationToken).ConfigureAwait(false);
        if (step.ExpectedVersion is { } expected && !Versions.Matches(status.Version ?? string.Empty, expected))
        {
            throw new StepFailedException(
                $"new node {node.Name} reports version '{status.Version}'; expected {expected}"
            );
        }
    }

    private static async Task JoinGreenAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var node = context.Node(step.Node!);
        var membership = await context.Product.MembershipAsync(node, cancellationToken).ConfigureAwait(false);
        if (membership.Running.Contains(context.Green[0].ErlangNode))
        {
            context.Emit(RunEventTypes.Progress, $"{node.Name} is already in the new cluster", step);
            return;
        }

        await context.Product.JoinClusterAsync(node, context.Green[0], cancellationToken).ConfigureAwait(false);
        await WaitRunningAsync(context, node, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<NodeStatus> WaitRunningAsync(
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        var poll = await context
            .Time.PollAsync(
                TimeSpan.FromSeconds(1),
                context.Plan.Product.StartTimeout,
                ct => context.Product.StatusAsync(node, ct),
                status => status.IsRunning,
                cancellationToken
            )
            .ConfigureAwait(false);
        return poll.Done
            ? poll.Last
            : throw new StepFailedException(
                $"{node.Name} did not report started within {DurationText.Format(context.Plan.Product.StartTimeout)} "
                    + $"({poll.Last.Detail})"
            );
    }
}
