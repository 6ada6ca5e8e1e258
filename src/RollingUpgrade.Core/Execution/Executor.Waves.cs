using System.Collections.Concurrent;
using RollingUpgrade.Planning;

namespace RollingUpgrade.Execution;

internal sealed partial class Executor
{
    /// <summary>
    /// The steps still to run of <paramref name="step"/>'s wave (the nodes of a batch going through one stage
    /// together), or null when the step runs alone.
    /// </summary>
    private static List<Step>? WaveOf(Step step, IReadOnlyList<Step> steps, HashSet<int> done)
    {
        if (step.Wave is not { } wave)
        {
            return null;
        }

        var members = steps.Where(s => s.Wave == wave && !done.Contains(s.Number)).ToList();
        return members.Count > 1 ? members : null;
    }

    /// <summary>What a wave came to: the steps that failed (in step order) and the first step left undone.</summary>
    private sealed record WaveResult(List<(Step Step, StepAttempt.Failed Failed)> Failures, Step? Unfinished);

    /// <summary>
    /// Runs a wave: one chain per node, at most <c>access.max_parallel_commands</c> chains at once, each node's steps
    /// in their order, every step journalled as it starts and ends. When a step fails (or a first signal ends a
    /// wait), no chain starts another step; the steps already running finish. The steps that succeeded join
    /// <paramref name="done"/>.
    /// </summary>
    private async Task<WaveResult> RunWaveStepsAsync(List<Step> wave, HashSet<int> done, IReadOnlyList<Step> steps)
    {
        var chains = wave.GroupBy(s => string.Join('+', s.Nodes), StringComparer.Ordinal)
            .Select(g => g.OrderBy(s => s.Number).ToList())
            .ToList();
        var results = new ConcurrentDictionary<int, StepAttempt>();
        using var slots = new SemaphoreSlim(Math.Max(1, context.Plan.Access.MaxParallelCommands));
        var halted = 0;

        async Task RunChainAsync(List<Step> chain)
        {
            // Each chain in its own flow, so each step sees its own start time, wait and command values.
            await Task.Yield();
            await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                foreach (var step in chain)
                {
                    if (Volatile.Read(ref halted) != 0 || StopRequested.IsCancellationRequested)
                    {
                        return;
                    }

                    var attempt = await RunStepAsync(step, resumedAt: null).ConfigureAwait(false);
                    results[step.Number] = attempt;
                    if (attempt is not StepAttempt.Succeeded)
                    {
                        Interlocked.Exchange(ref halted, 1);
                        return;
                    }
                }
            }
            catch
            {
                // A crash (a simulated kill, a lost journal): the others start nothing more either.
                Interlocked.Exchange(ref halted, 1);
                throw;
            }
            finally
            {
                slots.Release();
            }
        }

        await Task.WhenAll(chains.Select(RunChainAsync)).ConfigureAwait(false);
        foreach (var (number, _) in results.Where(r => r.Value is StepAttempt.Succeeded))
        {
            done.Add(number);
        }

        var failures = results
            .Where(r => r.Value is StepAttempt.Failed)
            .OrderBy(r => r.Key)
            .Select(r => (steps[r.Key - 1], (StepAttempt.Failed)r.Value))
            .ToList();
        return new WaveResult(failures, wave.FirstOrDefault(s => !done.Contains(s.Number)));
    }

    /// <summary>
    /// A forward wave; when a step fails the run halts or rolls back as one failure would, saying where each node of
    /// the batch stands. Null when every step succeeded.
    /// </summary>
    private async Task<RunOutcome?> RunWaveAsync(List<Step> wave, HashSet<int> done)
    {
        var (failures, unfinished) = await RunWaveStepsAsync(wave, done, context.Steps.Steps).ConfigureAwait(false);
        if (failures.Count == 0)
        {
            return unfinished is null ? null : Interrupted(unfinished);
        }

        var (first, _) = failures[0];
        var message = $"{FailuresText(failures)}. {BatchState(first, done, [.. failures.Select(f => f.Step.Number)])}";
        var untouched = failures.All(f => f.Step.Kind == StepKind.WaitDrained && !f.Failed.NodeTouched);
        if (untouched)
        {
            // Nothing changed on these nodes; the first is put back by the halt, the others here.
            foreach (var (other, _) in failures.Skip(1))
            {
                await ReturnToRotationAsync(other).ConfigureAwait(false);
                message += $" {other.Node} was put back into rotation too.";
            }
        }

        // What failed counts as touched for what comes next: a rollback undoes it (stop, start, reinstall and
        // return to rotation are safe to repeat), a halt names those nodes out of rotation.
        var assumed = new HashSet<int>(done);
        assumed.UnionWith(failures.Skip(1).Select(f => f.Step.Number));
        return await FailAsync(
                first,
                message,
                assumed,
                forceRollback: failures.Any(f => f.Failed.RollbackRequested),
                nodeTouched: !untouched
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The first failure's message, then "; step 12 (install 24.0 on n2) failed too: ..." for the others.
    /// </summary>
    private static string FailuresText(List<(Step Step, StepAttempt.Failed Failed)> failures) =>
        failures[0].Failed.Message
        + string.Concat(
            failures
                .Skip(1)
                .Select(f => $"; step {f.Step.Number} ({f.Step.Description}) failed too: {f.Failed.Message}")
        );

    /// <summary>
    /// "Batch: n1 failed at 'stop n1'; n2: last done 'stop n2'; n3: not started": where each node of the failed
    /// step's batch stands.
    /// </summary>
    private string BatchState(Step failed, HashSet<int> done, HashSet<int> failures)
    {
        var batch = context.Steps.Steps.Where(s => s.Batch == failed.Batch && s.Batch is not null).ToList();
        var nodes = batch.SelectMany(s => s.Nodes).Distinct(StringComparer.Ordinal).ToList();
        var parts = new List<string>();
        foreach (var node in nodes)
        {
            var own = batch.Where(s => s.Node == node).ToList();
            var broke = own.FirstOrDefault(s => failures.Contains(s.Number));
            var last = own.LastOrDefault(s => done.Contains(s.Number));
            parts.Add(
                broke is not null ? $"{node} failed at '{broke.Description}'"
                : last is not null ? $"{node}: last done '{last.Description}'"
                : $"{node}: not started"
            );
        }

        return $"Batch {string.Join("; ", parts)}";
    }
}
