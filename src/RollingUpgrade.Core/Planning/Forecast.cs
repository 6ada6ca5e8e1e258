using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Planning;

/// <summary>How long one step is expected to take, at most, and what the figures rest on.</summary>
public sealed record StepForecast(int Step, TimeSpan Expected, TimeSpan? Worst, string Basis)
{
    /// <summary>The step's wave (steps run at once with the rest of their batch), or null.</summary>
    public int? Wave { get; init; }

    /// <summary>Within a wave, the node whose steps run one after another.</summary>
    public string Chain { get; init; } = string.Empty;
}

/// <summary>
/// The time a plan will take, per step and in all: expected and worst case (null: unbounded, such as a wait for
/// `promote`), and how long the cluster runs mixed versions.
/// </summary>
public sealed record Forecast(
    IReadOnlyList<StepForecast> Steps,
    TimeSpan Expected,
    TimeSpan? Worst,
    TimeSpan ExpectedMixed,
    TimeSpan? WorstMixed
)
{
    /// <summary>Nominal times of what the plan does not bound tighter: a balancer call, a quick command.</summary>
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(1);

    public StepForecast? For(int step) => Steps.FirstOrDefault(s => s.Step == step);

    /// <summary>"~10s, at most 2m" or "~0s, unbounded".</summary>
    public static string Text(TimeSpan expected, TimeSpan? worst) =>
        $"~{DurationText.Format(Round(expected))}, "
        + (worst is { } w ? $"at most {DurationText.Format(Round(w))}" : "no upper bound");

    private static TimeSpan Round(TimeSpan span) => TimeSpan.FromSeconds(Math.Round(span.TotalSeconds));

    /// <summary>
    /// Forecasts <paramref name="steps"/> of <paramref name="plan"/>. <paramref name="sessions"/> are the live
    /// sessions per node when the balancers could be read (a drain of a node with sessions lasts its timeout, then
    /// its eviction); <paramref name="past"/> are the durations of steps (by step id) in the last succeeded run of the
    /// same plan, used as the expected time of commands whose length only experience tells (install, start).
    /// </summary>
    public static Forecast Create(
        Plan plan,
        ExecutionPlan steps,
        IReadOnlyDictionary<string, long>? sessions = null,
        IReadOnlyDictionary<string, TimeSpan>? past = null
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(steps);
        var list = steps
            .Steps.Where(s => s.Phase == RunPhase.Forward)
            .Select(s => Of(plan, s, sessions, past) with { Wave = s.Wave, Chain = string.Join('+', s.Nodes) })
            .ToList();
        var expected = Total(list, f => f.Expected)!.Value;
        var worst = Total(list, f => f.Worst);
        var (mixedExpected, mixedWorst) = Mixed(plan, steps, list);
        return new Forecast(list, expected, worst, mixedExpected, mixedWorst);
    }

    private static StepForecast Of(
        Plan plan,
        Step step,
        IReadOnlyDictionary<string, long>? sessions,
        IReadOnlyDictionary<string, TimeSpan>? past
    )
    {
        var command = plan.Access.CommandTimeout;
        var drain = plan.Strategy.Drain;
        TimeSpan? Learned() => past is not null && past.TryGetValue(step.Id, out var took) ? took : null;
        StepForecast Make(TimeSpan expected, TimeSpan? worst, string basis) =>
            new(step.Number, worst is { } w && w < expected ? w : expected, worst, basis);

        switch (step.Kind)
        {
            case StepKind.WaitDrained:
                var wait = WaitDrained(step, drain, sessions);
                return sessions is null && Learned() is { } drained
                    ? wait with
                    {
                        Expected = drained,
                        Basis = "last run (sessions unknown now); " + wait.Basis,
                    }
                    : wait;
            case StepKind.Pause:
                var pause = step.Pause ?? TimeSpan.Zero;
                return Make(pause, pause, "the pause");
            case StepKind.AwaitPromote:
                return Make(TimeSpan.Zero, null, "waits for `rollingupgrade promote`");
            case StepKind.Start:
                return Learned() is { } started
                    ? Make(started, plan.Product.StartTimeout, "last run; at most product.start_timeout")
                    : Make(TimeSpan.FromSeconds(10), plan.Product.StartTimeout, "at most product.start_timeout");
            case StepKind.Install or StepKind.RollbackInstall or StepKind.ProvisionGreen or StepKind.JoinGreen:
                return Learned() is { } installed
                    ? Make(installed, command, "last run; at most access.command_timeout")
                    : Make(TimeSpan.FromSeconds(30), command, "assumed; at most access.command_timeout");
            case StepKind.RunGates:
                var gates = plan.Gates.Where(g => step.Gates.Count == 0 || step.Gates.Contains(g.Name)).ToList();
                return Make(
                    Quick * Math.Max(1, gates.Count),
                    gates.Aggregate(TimeSpan.Zero, (sum, g) => sum + g.Timeout * g.Attempts),
                    "each gate's timeout x attempts at most"
                );
            case StepKind.Enable or StepKind.RegisterGreen or StepKind.ShiftTraffic:
                return Make(
                    Learned() ?? Quick,
                    ReadyTimeout(plan, step) + Quick,
                    "a health check to pass: ready_timeout at most"
                );
            case StepKind.Drain or StepKind.PreferUpgraded:
                return Make(Learned() ?? Quick, TimeSpan.FromSeconds(10), "a balancer call");
            case StepKind.Stop or StepKind.StopBlue:
                return Learned() is { } stopped
                    ? Make(stopped, command, "last run; at most access.command_timeout")
                    : Make(TimeSpan.FromSeconds(5), command, "at most access.command_timeout");
            default:
                // Status reads, membership checks, config backups and comparisons: one or two commands.
                return Learned() is { } took
                    ? Make(took, command * 2, "last run; at most two commands' timeouts")
                    : Make(Quick * 2, command * 2, "at most two commands' timeouts");
        }
    }

    private static StepForecast WaitDrained(Step step, DrainSpec drain, IReadOnlyDictionary<string, long>? sessions)
    {
        var settle = drain.PollInterval * drain.ZeroReadings;
        long? live = sessions is null ? null : step.Nodes.Sum(n => sessions.GetValueOrDefault(n));
        var evict =
            live is { } n && drain.EvictionRate > 0
                ? TimeSpan.FromSeconds(Math.Ceiling(n / (double)drain.EvictionRate))
                : TimeSpan.Zero;
        var worst = drain.OnTimeout switch
        {
            DrainTimeoutPolicy.Evict => drain.Timeout + evict + settle,
            _ => drain.Timeout + settle,
        };
        return live switch
        {
            0 => new StepForecast(step.Number, settle, worst, "no live sessions now"),
            { } count when drain.OnTimeout == DrainTimeoutPolicy.Evict => new StepForecast(
                step.Number,
                worst,
                worst,
                $"{count} live session(s) now: the drain timeout, then eviction at {drain.EvictionRate}/s"
            ),
            { } count => new StepForecast(step.Number, worst, worst, $"{count} live session(s) now: the drain timeout"),
            null => new StepForecast(
                step.Number,
                drain.Timeout,
                drain.OnTimeout == DrainTimeoutPolicy.Evict ? null : worst,
                drain.OnTimeout == DrainTimeoutPolicy.Evict
                    ? "sessions unknown (balancers not read): the drain timeout, then eviction of what is left"
                    : "sessions unknown (balancers not read): the drain timeout at most"
            ),
        };
    }

    private static TimeSpan ReadyTimeout(Plan plan, Step step)
    {
        var balancers = step.LoadBalancer is { } name
            ? plan.LoadBalancers.Where(l => l.Name == name)
            : plan.LoadBalancers;
        return balancers
            .Select(l =>
                l.Settings switch
                {
                    HAProxySettings h => h.ReadyTimeout,
                    YarpSettings y => y.ReadyTimeout,
                    AwsElbV2Settings a => a.ReadyTimeout,
                    _ => TimeSpan.FromSeconds(30),
                }
            )
            .DefaultIfEmpty(TimeSpan.FromSeconds(30))
            .Max();
    }

    /// <summary>
    /// Rolling: from the first start on the target version to the end of the run's last forward step. Parallel: from
    /// the first traffic step that gives green a share to the last step that retires blue.
    /// </summary>
    private static (TimeSpan Expected, TimeSpan? Worst) Mixed(
        Plan plan,
        ExecutionPlan steps,
        IReadOnlyList<StepForecast> list
    )
    {
        var forward = steps.Steps.Where(s => s.Phase == RunPhase.Forward).ToList();
        var first =
            plan.Strategy is ParallelStrategySpec
                ? forward.FindIndex(s => s.Kind == StepKind.ShiftTraffic && s.GreenPercent is > 0)
                : forward.FindIndex(s => s.Kind == StepKind.Start && s.ExpectedVersion is not null);
        var last =
            plan.Strategy is ParallelStrategySpec
                ? forward.FindLastIndex(s => s.Kind == StepKind.StopBlue)
                : forward.Count - 1;
        if (first < 0 || last < first)
        {
            return (TimeSpan.Zero, TimeSpan.Zero);
        }

        var window = list.Where(f => f.Step >= forward[first].Number && f.Step <= forward[last].Number).ToList();
        return (Total(window, f => f.Expected)!.Value, Total(window, f => f.Worst));
    }

    /// <summary>The time expected before <paramref name="step"/> begins.</summary>
    public TimeSpan ExpectedBefore(int step) => Total(Steps.Where(f => f.Step < step).ToList(), f => f.Expected)!.Value;

    /// <summary>
    /// The time <paramref name="steps"/> take one after another, except that the steps of a wave run at once: a wave
    /// takes as long as its longest node's steps. Null when any is unbounded.
    /// </summary>
    private static TimeSpan? Total(IReadOnlyList<StepForecast> steps, Func<StepForecast, TimeSpan?> of)
    {
        var total = TimeSpan.Zero;
        for (var i = 0; i < steps.Count; )
        {
            var end = i + 1;
            while (steps[i].Wave is { } wave && end < steps.Count && steps[end].Wave == wave)
            {
                end++;
            }

            var longest = TimeSpan.Zero;
            foreach (var chain in steps.Skip(i).Take(end - i).GroupBy(f => f.Chain, StringComparer.Ordinal))
            {
                if (Sum(chain.Select(of)) is not { } took)
                {
                    return null;
                }

                longest = took > longest ? took : longest;
            }

            total += longest;
            i = end;
        }

        return total;
    }

    private static TimeSpan? Sum(IEnumerable<TimeSpan?> spans)
    {
        var total = TimeSpan.Zero;
        foreach (var span in spans)
        {
            if (span is not { } value)
            {
                return null;
            }

            total += value;
        }

        return total;
    }
}
