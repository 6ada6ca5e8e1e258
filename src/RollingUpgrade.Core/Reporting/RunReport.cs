using System.Globalization;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Reporting;

/// <summary>
/// What a run's report shows, read from its journal alone (so a report can be made for any past run, from either
/// state backend): the run's summary, every step attempt, the drain samples, the traffic weights over time, the
/// mixed-version window and how the run ended.
/// </summary>
public sealed class RunReport
{
    public required RunSummary Summary { get; init; }

    /// <summary>The nodes that serve at the start (blue), and the new cluster's nodes for a parallel run.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    public IReadOnlyList<string> GreenNodes { get; init; } = [];

    public IReadOnlyList<ReportStep> Steps { get; init; } = [];

    public IReadOnlyList<ReportSample> Samples { get; init; } = [];

    /// <summary>Each balancer's propagation of a drain and each takeover of evicted sessions, in time order.</summary>
    public IReadOnlyList<DrainProof> Proofs { get; init; } = [];

    /// <summary>The green share of traffic after each traffic step (parallel runs); empty for rolling runs.</summary>
    public IReadOnlyList<WeightPoint> Weights { get; init; } = [];

    /// <summary>When both versions served at once, and until when (the end of the journal when still mixed).</summary>
    public DateTimeOffset? MixedFrom { get; init; }

    public DateTimeOffset? MixedTo { get; init; }

    /// <summary>The run ended (or its journal ends) with both versions serving.</summary>
    public bool MixedAtEnd { get; init; }

    /// <summary>The plan's eviction pace (sessions per second) and drain timeout, when the journal has them.</summary>
    public double? EvictionRate { get; init; }

    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>The last run-finished record's message and what to do next.</summary>
    public string? FinalMessage { get; init; }

    public string? Next { get; init; }

    /// <summary>The first and last record's times.</summary>
    public DateTimeOffset Begin { get; init; }

    public DateTimeOffset End { get; init; }

    /// <summary>Null when the journal has no run-started record.</summary>
    public static RunReport? FromJournal(string runId, string cluster, IReadOnlyList<JournalRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var summary = RunHistory.Summarize(runId, cluster, records);
        if (summary is null)
        {
            return null;
        }

        var started = records.First(r => r.Type == JournalTypes.RunStarted);
        string? Started(string key) => started.Data?.GetValueOrDefault(key);
        var steps = ReadSteps(records);
        var finished = records.LastOrDefault(r => r.Type == JournalTypes.RunFinished);
        var end = records[^1].At;
        var weights = ReadWeights(steps, summary.Strategy, started.At);
        var (mixedFrom, mixedTo, mixedAtEnd) = Mixed(records, steps, weights, summary, end);
        return new RunReport
        {
            Summary = summary,
            Nodes = Split(Started("nodes")) is { Count: > 0 } blue ? blue : NodesOf(steps, green: false),
            GreenNodes = Split(Started("green_nodes")) is { Count: > 0 } green ? green : NodesOf(steps, green: true),
            Steps = steps,
            Samples = ReadSamples(records),
            Proofs = records
                .Where(r =>
                    r.Type is JournalTypes.Propagation or JournalTypes.Takeover
                    && r.Data?.GetValueOrDefault("node") is not null
                )
                .Select(r => new DrainProof(r.At, r.Type, r.Data!["node"], r.Data))
                .ToList(),
            Weights = weights,
            MixedFrom = mixedFrom,
            MixedTo = mixedTo,
            MixedAtEnd = mixedAtEnd,
            EvictionRate = Number(Started("eviction_rate")),
            DrainTimeout = Number(Started("drain_timeout_s")) is { } s ? TimeSpan.FromSeconds(s) : null,
            FinalMessage = finished?.Message,
            Next = finished?.Data?.GetValueOrDefault("next"),
            Begin = records[0].At,
            End = end,
        };
    }

    /// <summary>Every node that had a sample or a step, blue first.</summary>
    public IReadOnlyList<string> AllNodes =>
        Nodes
            .Concat(GreenNodes)
            .Concat(Samples.SelectMany(s => s.Others.Keys.Append(s.Node)))
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>The live connections read for <paramref name="node"/>, in time order.</summary>
    public IReadOnlyList<(DateTimeOffset At, long Connections)> ConnectionsOf(string node) =>
        Samples
            .Select(s =>
                s.Node == node ? (s.At, (long?)s.Connections)
                : s.Others.TryGetValue(node, out var count) ? (s.At, count)
                : (s.At, null)
            )
            .Where(p => p.Item2 is not null)
            .Select(p => (p.At, p.Item2!.Value))
            .ToList();

    private static List<ReportStep> ReadSteps(IReadOnlyList<JournalRecord> records)
    {
        var steps = new List<ReportStep>();
        var open = new Dictionary<(string, int), int>();
        void Close(int index, DateTimeOffset at, string outcome, string? message) =>
            steps[index] = steps[index] with { Ended = at, Outcome = outcome, Message = message };

        foreach (var record in records)
        {
            var phase = record.Phase ?? "forward";
            switch (record.Type)
            {
                case JournalTypes.StepStarted when record.Step is { } number:
                    if (open.Remove((phase, number), out var previous))
                    {
                        // Started again without an end: the process that ran it ended inside it.
                        Close(previous, record.At, "unfinished", "the process ended inside this step");
                    }

                    open[(phase, number)] = steps.Count;
                    steps.Add(
                        new ReportStep(
                            number,
                            phase,
                            record.Message ?? $"step {number}",
                            record.Data?.GetValueOrDefault("kind") ?? KindFromId(record.StepId),
                            Split(record.Data?.GetValueOrDefault("nodes")),
                            record.At,
                            null,
                            "unfinished",
                            null,
                            (int?)Number(record.Data?.GetValueOrDefault("green_percent"))
                        )
                    );
                    break;
                case JournalTypes.StepSucceeded or JournalTypes.StepVerified when record.Step is { } number:
                    if (open.Remove((phase, number), out var done))
                    {
                        Close(
                            done,
                            record.At,
                            "succeeded",
                            record.Type == JournalTypes.StepVerified ? "verified" : null
                        );
                    }

                    break;
                case JournalTypes.StepFailed when record.Step is { } number:
                    if (open.Remove((phase, number), out var failed))
                    {
                        Close(failed, record.At, "failed", record.Message);
                    }

                    break;
                case JournalTypes.RunFinished or JournalTypes.RunResumed:
                    var outcome = record.Type == JournalTypes.RunResumed ? "unfinished" : "interrupted";
                    foreach (var index in open.Values)
                    {
                        Close(
                            index,
                            record.At,
                            outcome,
                            outcome == "unfinished" ? "the process ended inside this step" : record.Message
                        );
                    }

                    open.Clear();
                    break;
            }
        }

        return steps;
    }

    private static List<ReportSample> ReadSamples(IReadOnlyList<JournalRecord> records) =>
        records
            .Where(r => r.Type == JournalTypes.Sample && r.Data?.GetValueOrDefault("node") is not null)
            .Select(r => new ReportSample(
                r.At,
                r.Data!["node"],
                (long)(Number(r.Data.GetValueOrDefault("connections")) ?? 0),
                (long?)Number(r.Data.GetValueOrDefault("sessions")),
                (long)(Number(r.Data.GetValueOrDefault("evicted")) ?? 0),
                r.Data.Where(p => p.Key.StartsWith("c:", StringComparison.Ordinal))
                    .ToDictionary(p => p.Key[2..], p => (long)(Number(p.Value) ?? 0), StringComparer.Ordinal)
            )
            {
                Pace = Number(r.Data.GetValueOrDefault("pace")),
            })
            .ToList();

    private static List<WeightPoint> ReadWeights(List<ReportStep> steps, string? strategy, DateTimeOffset begin)
    {
        var points = new List<WeightPoint>();
        if (strategy != "parallel")
        {
            return points;
        }

        points.Add(new WeightPoint(begin, 0));
        foreach (var step in steps.Where(s => s.Kind == "ShiftTraffic" && s.GreenPercent is not null))
        {
            if (step.Outcome == "succeeded" && step.Ended is { } at && points[^1].GreenPercent != step.GreenPercent)
            {
                points.Add(new WeightPoint(at, step.GreenPercent!.Value));
            }
        }

        return points;
    }

    /// <summary>
    /// Rolling: from the first node started on the new version (the run's mixed_since fact) until the last one
    /// started, when the run succeeded. Parallel: while the new cluster took part of the traffic but not all.
    /// </summary>
    private static (DateTimeOffset? From, DateTimeOffset? To, bool AtEnd) Mixed(
        IReadOnlyList<JournalRecord> records,
        List<ReportStep> steps,
        List<WeightPoint> weights,
        RunSummary summary,
        DateTimeOffset end
    )
    {
        if (summary.Strategy == "parallel")
        {
            var shifted = weights.FindIndex(w => w.GreenPercent is > 0 and < 100);
            if (shifted < 0)
            {
                return (null, null, false);
            }

            var to = weights.Skip(shifted + 1).FirstOrDefault(w => w.GreenPercent is 0 or 100)?.At;
            return (weights[shifted].At, to ?? end, to is null);
        }

        var since = records
            .Where(r => r.Type == JournalTypes.Fact && r.Data?.GetValueOrDefault("key") == RunState.MixedSince)
            .Select(r => r.At)
            .FirstOrDefault();
        var starts = steps.Where(s => s.Phase == "forward" && s.Kind == "Start" && s.Outcome == "succeeded").ToList();
        var first = since != default ? since : starts.FirstOrDefault()?.Ended;
        if (first is null)
        {
            return (null, null, false);
        }

        return summary.Outcome == "succeeded"
            ? (first, starts.LastOrDefault()?.Ended ?? end, false)
            : (first, end, true);
    }

    private static IReadOnlyList<string> NodesOf(List<ReportStep> steps, bool green) =>
        steps
            .Where(s => green == s.Kind is "ProvisionGreen" or "JoinGreen" or "VerifyGreen" or "RegisterGreen")
            .Where(s => green || s.Kind is "Drain" or "Stop" or "StopBlue")
            .SelectMany(s => s.Nodes)
            .Distinct(StringComparer.Ordinal)
            .ToList();

    private static string KindFromId(string? id) => id?.Split(':')[0] ?? "step";

    private static List<string> Split(string? list) =>
        string.IsNullOrEmpty(list) ? [] : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    private static double? Number(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
