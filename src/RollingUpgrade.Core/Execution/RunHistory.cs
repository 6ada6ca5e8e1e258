using System.Globalization;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Execution;

/// <summary>One run of a cluster as its journal tells it.</summary>
public sealed record RunSummary
{
    public required string RunId { get; init; }

    public required string Cluster { get; init; }

    public string? Operator { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string? Strategy { get; init; }

    /// <summary>What the nodes ran when the run began (read from them), else the plan's from_version.</summary>
    public string? FromVersion { get; init; }

    public string? ToVersion { get; init; }

    /// <summary>As the last run-finished record says (succeeded, halted, rolled-back, ...), or "unfinished".</summary>
    public required string Outcome { get; init; }

    public string? Fingerprint { get; init; }

    /// <summary>The reason given with --override-staging, when the staging-first gate was overridden.</summary>
    public string? StagingOverride { get; init; }

    public TimeSpan? Duration => FinishedAt - StartedAt;
}

/// <summary>The runs of a cluster from its journals, oldest first.</summary>
public static class RunHistory
{
    public static async Task<IReadOnlyList<RunSummary>> ReadAsync(
        IRunStore store,
        string cluster,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(store);
        var runs = new List<RunSummary>();
        foreach (var runId in await store.RunIdsAsync(cluster, cancellationToken).ConfigureAwait(false))
        {
            var records = await store.ReadJournalAsync(cluster, runId, cancellationToken).ConfigureAwait(false);
            if (records is not null && Summarize(runId, cluster, records) is { } summary)
            {
                runs.Add(summary);
            }
        }

        return runs;
    }

    /// <summary>
    /// How long each forward step (by step id) took in the cluster's last succeeded run other than
    /// <paramref name="exceptRun"/>; empty when there is none. The forecast expects those times again.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, TimeSpan>> PastDurationsAsync(
        IRunStore store,
        string cluster,
        string? exceptRun = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(store);
        var ids = await store.RunIdsAsync(cluster, cancellationToken).ConfigureAwait(false);
        foreach (var runId in ids.Reverse().Where(id => id != exceptRun).Take(20))
        {
            var records = await store.ReadJournalAsync(cluster, runId, cancellationToken).ConfigureAwait(false);
            if (records is null || Summarize(runId, cluster, records)?.Outcome != "succeeded")
            {
                continue;
            }

            var durations = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            var started = new Dictionary<int, JournalRecord>();
            foreach (var record in records.Where(r => r.Phase is null or "forward" && r.Step is not null))
            {
                if (record.Type == JournalTypes.StepStarted)
                {
                    started[record.Step!.Value] = record;
                }
                else if (
                    record.Type == JournalTypes.StepSucceeded
                    && started.Remove(record.Step!.Value, out var begin)
                    && begin.StepId is { } id
                )
                {
                    durations[id] = record.At - begin.At;
                }
            }

            return durations;
        }

        return new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
    }

    internal static RunSummary? Summarize(string runId, string cluster, IReadOnlyList<JournalRecord> records)
    {
        var started = records.FirstOrDefault(r => r.Type == JournalTypes.RunStarted);
        if (started is null)
        {
            return null;
        }

        string? Started(string key) => started.Data?.GetValueOrDefault(key);
        var last = records.LastOrDefault(r => r.Type is JournalTypes.RunFinished or JournalTypes.RunResumed);
        var finished = last?.Type == JournalTypes.RunFinished ? last : null;
        var from = records
            .Where(r => r.Type == JournalTypes.Fact && r.Data?.GetValueOrDefault("key") == RunState.FromVersion)
            .Select(r => r.Data!.GetValueOrDefault("value"))
            .FirstOrDefault();
        return new RunSummary
        {
            RunId = runId,
            Cluster = Started("cluster") ?? cluster,
            Operator = Started("operator"),
            Reason = Started("reason"),
            StartedAt = started.At,
            FinishedAt = finished?.At,
            Strategy = Started("strategy"),
            FromVersion = from,
            ToVersion = Started("to_version"),
            Outcome = finished?.Data?.GetValueOrDefault("outcome") ?? "unfinished",
            Fingerprint = Started("fingerprint"),
            StagingOverride = records
                .LastOrDefault(r => r.Type == JournalTypes.StagingOverride)
                ?.Data?.GetValueOrDefault("reason"),
        };
    }

    /// <summary>
    /// The staging-first gate: the latest succeeded run on <paramref name="staging"/> (a cluster in the same state
    /// store) of <paramref name="from"/> -> <paramref name="to"/>, finished within <paramref name="maxAge"/> when
    /// given; null when there is none.
    /// </summary>
    public static async Task<RunSummary?> StagingRunAsync(
        IRunStore store,
        string staging,
        string from,
        string to,
        TimeSpan? maxAge,
        DateTimeOffset now
    )
    {
        return (await ReadAsync(store, staging).ConfigureAwait(false))
            .Where(r =>
                r.Outcome == "succeeded"
                && r.FinishedAt is { } at
                && (maxAge is null || now - at <= maxAge)
                && r.FromVersion is { } f
                && Versions.Matches(f, from)
                && r.ToVersion is { } t
                && Versions.Matches(t, to)
            )
            .OrderBy(r => r.FinishedAt)
            .LastOrDefault();
    }

    public static string Age(TimeSpan age) =>
        age.TotalDays >= 1 ? $"{age.TotalDays.ToString("0", CultureInfo.InvariantCulture)} day(s) ago"
        : age.TotalHours >= 1 ? $"{age.TotalHours.ToString("0", CultureInfo.InvariantCulture)} hour(s) ago"
        : $"{Math.Max(0, age.TotalMinutes).ToString("0", CultureInfo.InvariantCulture)} minute(s) ago";
}
