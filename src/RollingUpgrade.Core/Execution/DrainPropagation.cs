using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// Proof that each load balancer stopped sending new sessions to a drained node: its cumulative session count for
/// the node (HAProxy's <c>stot</c>, the embedded proxy's total) read on every poll of the drain wait. A balancer
/// has taken the drain once it read the same count <c>zero_readings</c> times in a row; the time from the
/// drain to the last new session is its propagation time, journalled for the report. A new session later than
/// <c>propagation_timeout</c> after the drain means the balancer did not take it, and the step fails.
/// A balancer that does not count sessions (ELBv2) is taken at its word: the drain was read back.
/// </summary>
internal sealed class DrainPropagation(RunContext context, Step step, NodeSpec node, DateTimeOffset drainedAt)
{
    private readonly Dictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly HashSet<string> _uncounted = new(StringComparer.Ordinal);

    /// <summary>True once every balancer that counts sessions has been quiet long enough.</summary>
    public bool Proven => _watches.Values.All(w => w.ProvenAfter is not null);

    /// <summary>Sessions that arrived at the node through the balancers since the drain.</summary>
    public long NewSessions => _watches.Values.Sum(w => w.Arrived);

    public void Observe(string balancer, long? sessionsTotal)
    {
        var now = context.Time.GetUtcNow();
        if (sessionsTotal is not { } total)
        {
            if (_uncounted.Add(balancer))
            {
                Diagnostics.EngineLog.PropagationUncounted(context.Log, balancer, node.Name);
            }

            return;
        }

        // Readings of the same count in a row, as zero_readings counts readings of zero: the first reading is one.
        if (!_watches.TryGetValue(balancer, out var watch))
        {
            watch = _watches[balancer] = new Watch { Total = total, Quiet = 0 };
        }
        else if (total < watch.Total)
        {
            // The counter went back: the balancer restarted or reloaded. Its new count starts from here.
            watch.Total = total;
            watch.Quiet = 0;
            watch.ProvenAfter = null;
        }

        if (total > watch.Total)
        {
            watch.Arrived += total - watch.Total;
            watch.Total = total;
            watch.LastArrivalAt = now;
            watch.Quiet = 0;
            watch.ProvenAfter = null;
            var late = now - drainedAt;
            if (late > context.Plan.Strategy.Drain.PropagationTimeout)
            {
                throw new StepFailedException(
                    $"{balancer} still sends new sessions to {node.Name} {DurationText.Format(late)} after the drain "
                        + $"({watch.Arrived} since; propagation_timeout is "
                        + $"{DurationText.Format(context.Plan.Strategy.Drain.PropagationTimeout)}): the balancer did "
                        + "not take the drain. Look for persistence (stick tables, cookies) that sends clients to a "
                        + "drained server, or an instance of the balancer missing from the plan",
                    nodeTouched: false
                );
            }
        }

        watch.Quiet++;
        if (watch.ProvenAfter is null && watch.Quiet >= context.Plan.Strategy.Drain.ZeroReadings)
        {
            watch.ProvenAfter = watch.LastArrivalAt is { } last ? last - drainedAt : TimeSpan.Zero;
            Report(balancer, watch);
        }
    }

    private void Report(string balancer, Watch watch)
    {
        var took = watch.ProvenAfter ?? TimeSpan.Zero;
        var ms = ((long)took.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var data = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["node"] = node.Name,
            ["load_balancer"] = balancer,
            ["propagation_ms"] = ms,
            ["new_sessions"] = watch.Arrived.ToString(CultureInfo.InvariantCulture),
        };
        context.Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.Propagation,
                Phase = context.Phase.Text(),
                Step = step.Number,
                Data = data,
            }
        );
        var readings = context.Plan.Strategy.Drain.ZeroReadings;
        context.Emit(
            RunEventTypes.Progress,
            watch.Arrived == 0
                ? $"{node.Name}: {balancer} sent it no new session after the drain ({readings} readings)"
                : $"{node.Name}: {balancer} stopped sending new sessions {DurationText.Format(took)} after the drain "
                    + $"({watch.Arrived} arrived before that; none in {readings} readings since)",
            step,
            data
        );
    }

    private sealed class Watch
    {
        public long Total { get; set; }

        public long Arrived { get; set; }

        public DateTimeOffset? LastArrivalAt { get; set; }

        public int Quiet { get; set; }

        public TimeSpan? ProvenAfter { get; set; }
    }
}
