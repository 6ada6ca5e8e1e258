using System.Globalization;
using Microsoft.Extensions.Logging;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Starts and resumes runs: takes the cluster lock, opens the journal, builds the ports, runs the executor.
/// </summary>
public static class Orchestrator
{
    public static Task<RunOutcome> RunAsync(Plan plan, IAdapterFactory adapters, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var runId = NewRunId(options.Time);
        return WithLockAsync(plan, adapters, options, runId, (executor, _) => executor.RunAsync(), isNew: true);
    }

    public static async Task<RunOutcome> ResumeAsync(Plan plan, IAdapterFactory adapters, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var store = options.RunStore;
        var cluster = plan.Cluster.Name;
        var runId = await store.CurrentRunIdAsync(cluster).ConfigureAwait(false);
        var records = runId is null ? null : await store.ReadJournalAsync(cluster, runId).ConfigureAwait(false);
        if (runId is null || records is null)
        {
            return new RunOutcome(
                RunStatus.BadInput,
                $"no run of {cluster} to resume in {store.Describe(cluster)}",
                $"start one with `rollingupgrade run {plan.SourcePath}`"
            );
        }

        if (
            await store.HolderAsync(cluster).ConfigureAwait(false) is { Stale: false } live
            && await store.ReadRequestAsync(cluster, RunRequest.Pause).ConfigureAwait(false) is not null
        )
        {
            // The run is alive and paused (or about to pause): tell it to go on.
            await store.ClearRequestAsync(cluster, RunRequest.Pause).ConfigureAwait(false);
            await store
                .RequestAsync(
                    cluster,
                    RunRequest.Continue,
                    options.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)
                )
                .ConfigureAwait(false);
            return new RunOutcome(
                RunStatus.Succeeded,
                $"asked the paused run {live.RunId} (process {live.Pid} on {live.Host}) to go on",
                "`rollingupgrade status` shows it"
            )
            {
                RunId = live.RunId,
            };
        }

        var started = records.FirstOrDefault(r => r.Type == JournalTypes.RunStarted);
        if (started?.Data?.GetValueOrDefault("fingerprint") is { } fingerprint && fingerprint != plan.Fingerprint)
        {
            return new RunOutcome(
                RunStatus.BadInput,
                $"{plan.SourcePath} changed since run {runId} started; a run resumes only with the plan it started "
                    + "with",
                "restore the plan as it was, or start a new run with `rollingupgrade run`"
            )
            {
                RunId = runId,
            };
        }

        var finished = records.LastOrDefault(r => r.Type is JournalTypes.RunFinished or JournalTypes.RunResumed);
        var outcome = finished?.Type == JournalTypes.RunFinished ? finished.Data?.GetValueOrDefault("outcome") : null;
        if (outcome is "succeeded" or "rolled-back")
        {
            var status = outcome == "succeeded" ? RunStatus.Succeeded : RunStatus.RolledBack;
            return new RunOutcome(
                status,
                $"run {runId} already finished: {outcome}",
                "nothing to resume; start a new run with `rollingupgrade run`"
            )
            {
                RunId = runId,
            };
        }

        return await WithLockAsync(
                plan,
                adapters,
                options,
                runId,
                (executor, latest) => executor.ResumeAsync(latest, options.InFlight),
                isNew: false
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// On-demand rollback (parallel: traffic back to the old cluster; rolling: every upgraded node back to the
    /// previous version, one by one through the drain): asks a live run to roll back at its next safe point,
    /// or, with no run active, rolls the recorded run back itself.
    /// </summary>
    public static async Task<RunOutcome> RollbackAsync(Plan plan, IAdapterFactory adapters, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var store = options.RunStore;
        var cluster = plan.Cluster.Name;
        var runId = await store.CurrentRunIdAsync(cluster).ConfigureAwait(false);

        if (runId is null || await store.ReadJournalAsync(cluster, runId).ConfigureAwait(false) is null)
        {
            return new RunOutcome(RunStatus.BadInput, $"no run of {cluster} to roll back", "nothing to do");
        }

        if (
            plan.Strategy is RollingStrategySpec
            && plan.Upgrade.Install is not null
            && plan.Upgrade.RollbackInstall is null
        )
        {
            return new RunOutcome(
                RunStatus.BadInput,
                "a rolling rollback puts the previous version back on every upgraded node, and the plan has no "
                    + "upgrade.rollback_install to do it with; nothing was touched",
                "set upgrade.rollback_install (it is given the previous version as {version}), then run "
                    + $"`rollingupgrade rollback {plan.SourcePath}` again"
            );
        }

        if (await store.HolderAsync(cluster).ConfigureAwait(false) is { Stale: false } holder)
        {
            await store
                .RequestAsync(
                    cluster,
                    RunRequest.Rollback,
                    options.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)
                )
                .ConfigureAwait(false);
            return new RunOutcome(
                RunStatus.Succeeded,
                $"asked run {holder.RunId} (process {holder.Pid} on {holder.Host}) to "
                    + (
                        plan.Strategy is ParallelStrategySpec
                            ? "move traffic back to the old cluster"
                            : "take the nodes it upgraded back to the previous version, one by one through the drain"
                    ),
                "it does so at its next step, or at once if it is pausing or waiting for promote; "
                    + "`rollingupgrade status` shows it"
            )
            {
                RunId = holder.RunId,
            };
        }

        return await WithLockAsync(
                plan,
                adapters,
                options,
                runId,
                (executor, records) => executor.RollbackOnDemandAsync(records),
                isNew: false
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// `rollingupgrade pause`: asks the live run to hold at its next safe point (before it takes the next node or
    /// batch out, or before it moves traffic again) with every node serving, until `resume`.
    /// </summary>
    public static async Task<RunOutcome> PauseAsync(Plan plan, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var store = options.RunStore;
        var cluster = plan.Cluster.Name;
        if (await store.HolderAsync(cluster).ConfigureAwait(false) is not { Stale: false } holder)
        {
            return new RunOutcome(
                RunStatus.NothingToDo,
                $"no run of {cluster} is running; nothing was paused",
                "`rollingupgrade status` shows where the last run is"
            );
        }

        await store
            .RequestAsync(
                cluster,
                RunRequest.Pause,
                options.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)
            )
            .ConfigureAwait(false);
        return new RunOutcome(
            RunStatus.Succeeded,
            $"asked run {holder.RunId} (process {holder.Pid} on {holder.Host}) to pause at its next safe point, with "
                + "every node serving",
            $"`rollingupgrade resume {plan.SourcePath}` lets it go on; `rollingupgrade rollback {plan.SourcePath}` "
                + "takes back what it upgraded"
        )
        {
            RunId = holder.RunId,
        };
    }

    /// <summary>`rollingupgrade promote`: lets a run waiting at a traffic step go on.</summary>
    public static async Task<RunOutcome> PromoteAsync(Plan plan, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var store = options.RunStore;
        var cluster = plan.Cluster.Name;
        var runId = await store.CurrentRunIdAsync(cluster).ConfigureAwait(false);
        var records = (runId is null ? null : await store.ReadJournalAsync(cluster, runId).ConfigureAwait(false)) ?? [];
        var waiting = records.LastOrDefault(r =>
            r.Type == JournalTypes.StepStarted
            && r.StepId?.StartsWith(nameof(StepKind.AwaitPromote), StringComparison.Ordinal) == true
        );
        var doneWaiting =
            waiting is not null
            && records.Any(r =>
                r.Type is JournalTypes.StepSucceeded or JournalTypes.StepVerified
                && r.Step == waiting.Step
                && r.Phase == waiting.Phase
            );
        if (waiting is null || doneWaiting)
        {
            return new RunOutcome(
                RunStatus.NothingToDo,
                $"no step of {cluster} is waiting for promote; nothing was changed",
                "`rollingupgrade status` shows where the run is"
            );
        }

        var percent = Planner.Create(plan).Steps[waiting.Step!.Value - 1].GreenPercent ?? 100;
        await store
            .RequestAsync(cluster, RunRequest.Promote, percent.ToString(CultureInfo.InvariantCulture))
            .ConfigureAwait(false);
        return new RunOutcome(
            RunStatus.Succeeded,
            plan.Strategy is ParallelStrategySpec
                ? $"promoted: the run goes on from {percent}% on the new cluster"
                : "promoted: the run goes on past its canary",
            "watch it with `rollingupgrade status`"
        )
        {
            RunId = runId,
        };
    }

    /// <summary>
    /// Takes the cluster's run slot, opens the journal, builds the ports and runs <paramref name="body"/> with the
    /// journal as the store has it once the slot is held (so a resume reads what the last holder wrote). A journal
    /// that can no longer be written (the shared store gone, the lease lost) ends the run at once, touching nothing
    /// more.
    /// </summary>
    private static async Task<RunOutcome> WithLockAsync(
        Plan plan,
        IAdapterFactory adapters,
        RunOptions options,
        string runId,
        Func<Executor, IReadOnlyList<JournalRecord>, Task<RunOutcome>> body,
        bool isNew
    )
    {
        var store = options.RunStore;
        var cluster = plan.Cluster.Name;
        var attempt = await store
            .ClaimAsync(
                new ClaimRequest(cluster, runId, isNew, options.TakeOverStaleLock, options.Time, options.Redactor)
                {
                    Notify = text =>
                        options.Observer.OnEvent(
                            new RunEvent(options.Time.GetUtcNow(), RunEventTypes.Progress, text) { RunId = runId }
                        ),
                }
            )
            .ConfigureAwait(false);
        if (attempt.Claim is null)
        {
            return LockRefused(plan, store, attempt.Holder);
        }

        await using var claim = attempt.Claim;
        if (attempt.Holder is { } previous)
        {
            options.Observer.OnEvent(
                new RunEvent(
                    options.Time.GetUtcNow(),
                    RunEventTypes.Warning,
                    $"took over {store.DescribeSlot(cluster)} from {previous.Describe()}, "
                        + (
                            previous.ExpiresAt is { } ranOut
                                ? $"whose lease ran out at {ranOut:u}"
                                : "which no longer runs"
                        )
                )
                {
                    RunId = runId,
                }
            );
        }

        if (isNew)
        {
            await store.ClearRequestAsync(cluster, RunRequest.Promote).ConfigureAwait(false);
            await store.ClearRequestAsync(cluster, RunRequest.Rollback).ConfigureAwait(false);
        }

        // A run that starts or resumes here is not paused: `resume` is the answer to a pause.
        await store.ClearRequestAsync(cluster, RunRequest.Pause).ConfigureAwait(false);
        await store.ClearRequestAsync(cluster, RunRequest.Continue).ConfigureAwait(false);

        var records = isNew ? [] : await store.ReadJournalAsync(cluster, runId).ConfigureAwait(false) ?? [];
        var shells = new LimitedShells(adapters.CreateShells(plan), plan.Access.MaxParallelCommands);
        var facts = new RunState();
        var values = new StepCommandValues(plan, facts, runId);
        var steps = Planner.Create(plan);
        var past = await RunHistory.PastDurationsAsync(store, cluster, runId).ConfigureAwait(false);
        var context = new RunContext
        {
            Plan = plan,
            Steps = steps,
            Forecast = Forecast.Create(plan, steps, past: past),
            Began = records.FirstOrDefault(r => r.Type == JournalTypes.RunStarted)?.At,
            LoadBalancers = plan.LoadBalancers.Select(lb => adapters.CreateLoadBalancer(lb, plan)).ToList(),
            Product = adapters.CreateProduct(plan, shells, values),
            Facts = facts,
            AdoptDrained = options.AdoptDrained,
            Operator = options.Operator,
            Reason = options.Reason,
            OverrideStaging = options.OverrideStaging,
            Values = values,
            Shells = shells,
            Probe = adapters.CreateGateProbe(plan),
            Time = options.Time,
            Journal = claim.Journal,
            Observer = options.Observer,
            Store = store,
            Claim = claim,
            Transient = Executor.TransientPipeline(options.Time, options.Logging.CreateLogger("RollingUpgrade.Engine")),
            Log = options.Logging.CreateLogger("RollingUpgrade.Engine"),
            HeartbeatInterval = options.HeartbeatInterval,
        };
        var executor = new Executor(context, options.Faults)
        {
            StopRequested = options.StopRequested,
            Hurry = options.Hurry,
        };
        try
        {
            return await body(executor, records).ConfigureAwait(false);
        }
        catch (JournalUnavailableException e)
        {
            return JournalLost(plan, store, runId, e, options);
        }
        finally
        {
            (shells as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The journal could not be written (or the lease was lost): the run stopped before acting again. Nothing is
    /// journalled (it cannot be); the operator is told where things stand and what to do.
    /// </summary>
    private static RunOutcome JournalLost(
        Plan plan,
        IRunStore store,
        string runId,
        JournalUnavailableException e,
        RunOptions options
    )
    {
        var outcome = new RunOutcome(
            RunStatus.Halted,
            $"stopped: {e.Message}. Nothing was touched after the last journalled step; the cluster is as that step "
                + "left it",
            $"`rollingupgrade status {plan.SourcePath}` shows who holds {plan.Cluster.Name} and the live state; once "
                + $"{store.Describe(plan.Cluster.Name)} is reachable and no other run holds the cluster, "
                + $"`rollingupgrade resume {plan.SourcePath}` continues this run"
        )
        {
            RunId = runId,
        };
        options.Observer.OnEvent(
            new RunEvent(options.Time.GetUtcNow(), RunEventTypes.RunFinished, outcome.Summary)
            {
                RunId = runId,
                Data = new Dictionary<string, string>
                {
                    ["outcome"] = "halted",
                    ["next"] = outcome.NextSteps,
                    ["reason"] = e.LeaseLost ? "lease-lost" : "journal-unavailable",
                },
            }
        );
        return outcome;
    }

    private static RunOutcome LockRefused(Plan plan, IRunStore store, RunHolder? holder)
    {
        var cluster = plan.Cluster.Name;
        var who = holder is null ? "a holder that cannot be read" : holder.Describe();
        if (holder is null || !holder.Stale)
        {
            return new RunOutcome(
                RunStatus.Locked,
                $"another run holds {cluster}: {who}",
                "wait for it to finish, or stop it with Ctrl-C where it runs; `rollingupgrade status` shows its "
                    + "progress"
            );
        }

        var why = holder.ExpiresAt is { } expired
            ? $"its lease ran out at {expired:u}: {store.DescribeSlot(cluster)} is stale"
            : $"which is no longer running: {store.DescribeSlot(cluster)} is stale";
        return new RunOutcome(
            RunStatus.Locked,
            $"{cluster} is held by {who}; {why}",
            $"check that no other run is active (a host cut off from the database may still be working), then "
                + $"`rollingupgrade resume {plan.SourcePath} --take-over-stale-lock` to continue that run"
        );
    }

    public static string NewRunId(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return $"{stamp}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
    }
}
