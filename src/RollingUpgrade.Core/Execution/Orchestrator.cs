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
        return WithLockAsync(plan, adapters, options, runId, executor => executor.RunAsync(), isNew: true);
    }

    public static Task<RunOutcome> ResumeAsync(Plan plan, IAdapterFactory adapters, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var state = StateDirectory.Open(options.StateRoot, plan.Cluster.Name);
        var runId = state.CurrentRunId();
        if (runId is null || !File.Exists(state.JournalPath(runId)))
        {
            return Task.FromResult(
                new RunOutcome(
                    RunStatus.BadInput,
                    $"no run of {plan.Cluster.Name} to resume in {state.ClusterFolder}",
                    $"start one with `rollingupgrade run {plan.SourcePath}`"
                )
            );
        }

        var records = Journal.Read(state.JournalPath(runId));
        var started = records.FirstOrDefault(r => r.Type == JournalTypes.RunStarted);
        if (started?.Data?.GetValueOrDefault("fingerprint") is { } fingerprint && fingerprint != plan.Fingerprint)
        {
            return Task.FromResult(
                new RunOutcome(
                    RunStatus.BadInput,
                    $"{plan.SourcePath} changed since run {runId} started; a run resumes only with the plan it "
                        + $"started with",
                    "restore the plan as it was, or start a new run with `rollingupgrade run`"
                )
                {
                    RunId = runId,
                }
            );
        }

        var finished = records.LastOrDefault(r => r.Type is JournalTypes.RunFinished or JournalTypes.RunResumed);
        var outcome = finished?.Type == JournalTypes.RunFinished ? finished.Data?.GetValueOrDefault("outcome") : null;
        if (outcome is "succeeded" or "rolled-back")
        {
            var status = outcome == "succeeded" ? RunStatus.Succeeded : RunStatus.RolledBack;
            return Task.FromResult(
                new RunOutcome(
                    status,
                    $"run {runId} already finished: {outcome}",
                    "nothing to resume; start a new run with `rollingupgrade run`"
                )
                {
                    RunId = runId,
                }
            );
        }

        return WithLockAsync(
            plan,
            adapters,
            options,
            runId,
            executor => executor.ResumeAsync(records, options.InFlight),
            isNew: false
        );
    }

    /// <summary>
    /// On-demand rollback of a parallel run: asks a live run to roll back at its next safe point,
    /// or, with no run active, rolls the recorded run back itself.
    /// </summary>
    public static Task<RunOutcome> RollbackAsync(Plan plan, IAdapterFactory adapters, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var state = StateDirectory.Open(options.StateRoot, plan.Cluster.Name);
        var runId = state.CurrentRunId();
        if (plan.Strategy is not ParallelStrategySpec)
        {
            return Task.FromResult(
                new RunOutcome(
                    RunStatus.BadInput,
                    "on-demand rollback is for the parallel strategy",
                    "for a rolling run, set rollback.policy = \"rollback\" or resume it"
                )
            );
        }

        if (runId is null || !File.Exists(state.JournalPath(runId)))
        {
            return Task.FromResult(
                new RunOutcome(RunStatus.BadInput, $"no run of {plan.Cluster.Name} to roll back", "nothing to do")
            );
        }

        if (File.Exists(state.LockPath) && RunLock.ReadHolder(state.LockPath) is { } holder && !RunLock.IsStale(holder))
        {
            File.WriteAllText(
                state.RollbackRequestPath,
                options.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)
            );
            return Task.FromResult(
                new RunOutcome(
                    RunStatus.Succeeded,
                    $"asked run {holder.RunId} (process {holder.Pid}) to move traffic back to the old cluster",
                    "it does so at its next step, or at once if it is pausing or waiting for promote; "
                        + "`rollingupgrade status` shows it"
                )
                {
                    RunId = holder.RunId,
                }
            );
        }

        var records = Journal.Read(state.JournalPath(runId));
        return WithLockAsync(
            plan,
            adapters,
            options,
            runId,
            executor => executor.RollbackOnDemandAsync(records),
            isNew: false
        );
    }

    /// <summary>`rollingupgrade promote`: lets a run waiting at a traffic step go on.</summary>
    public static RunOutcome Promote(Plan plan, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var state = StateDirectory.Open(options.StateRoot, plan.Cluster.Name);
        var runId = state.CurrentRunId();
        var records =
            runId is not null && File.Exists(state.JournalPath(runId)) ? Journal.Read(state.JournalPath(runId)) : [];
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
                RunStatus.Halted,
                $"no step of {plan.Cluster.Name} is waiting for promote",
                "`rollingupgrade status` shows where the run is"
            );
        }

        var percent = Planner.Create(plan).Steps[waiting.Step!.Value - 1].GreenPercent ?? 100;
        File.WriteAllText(state.PromotePath, percent.ToString(CultureInfo.InvariantCulture));
        return new RunOutcome(
            RunStatus.Succeeded,
            $"promoted: the run goes on from {percent}% on the new cluster",
            "watch it with `rollingupgrade status`"
        )
        {
            RunId = runId,
        };
    }

    private static async Task<RunOutcome> WithLockAsync(
        Plan plan,
        IAdapterFactory adapters,
        RunOptions options,
        string runId,
        Func<Executor, Task<RunOutcome>> body,
        bool isNew
    )
    {
        var state = StateDirectory.Open(options.StateRoot, plan.Cluster.Name);
        var attempt = RunLock.TryAcquire(state.LockPath, runId, options.TakeOverStaleLock, options.Time);
        if (attempt.Lock is null)
        {
            return LockRefused(plan, state, attempt);
        }

        using var runLock = attempt.Lock;
        if (attempt.Holder is { } previous)
        {
            options.Observer.OnEvent(
                new RunEvent(
                    options.Time.GetUtcNow(),
                    RunEventTypes.Warning,
                    $"took over the lock of process {previous.Pid} on {previous.Host} (run {previous.RunId}, "
                        + $"since {previous.Since:u}), which no longer runs"
                )
            );
        }

        if (isNew)
        {
            state.SetCurrent(runId);
            TryDelete(state.PromotePath);
            TryDelete(state.RollbackRequestPath);
        }

        using var journal = Journal.Open(state.JournalPath(runId), options.Time, options.Redactor);
        var shells = adapters.CreateShells(plan);
        var facts = new RunState();
        var values = new StepCommandValues(plan, facts, runId);
        var context = new RunContext
        {
            Plan = plan,
            Steps = Planner.Create(plan),
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
            Journal = journal,
            Observer = options.Observer,
            State = state,
            Transient = Executor.TransientPipeline(options.Time, options.Logging.CreateLogger("RollingUpgrade.Engine")),
            Log = options.Logging.CreateLogger("RollingUpgrade.Engine"),
        };
        var executor = new Executor(context, options.Faults)
        {
            StopRequested = options.StopRequested,
            Hurry = options.Hurry,
        };
        try
        {
            return await body(executor).ConfigureAwait(false);
        }
        finally
        {
            (shells as IDisposable)?.Dispose();
        }
    }

    private static RunOutcome LockRefused(Plan plan, StateDirectory state, LockAttempt attempt)
    {
        var holder = attempt.Holder;
        var who = holder is null
            ? "an unreadable lock file"
            : $"process {holder.Pid} on {holder.Host} (run {holder.RunId}, since {holder.Since:u})";
        return attempt.HolderIsStale
            ? new RunOutcome(
                RunStatus.Locked,
                $"{plan.Cluster.Name} is locked by {who}, which is no longer running: the lock {state.LockPath} is "
                    + $"stale",
                $"check that no other run is active, then `rollingupgrade resume {plan.SourcePath} "
                    + $"--take-over-stale-lock` to continue that run"
            )
            : new RunOutcome(
                RunStatus.Locked,
                $"another run holds {plan.Cluster.Name}: {who}",
                "wait for it to finish, or stop it with Ctrl-C; `rollingupgrade status` shows its progress"
            );
    }

    public static string NewRunId(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return $"{stamp}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A marker that cannot be removed is reported when it is next read.
        }
    }
}
