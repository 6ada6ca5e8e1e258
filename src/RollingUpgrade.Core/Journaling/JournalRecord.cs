using System.Text.Json.Serialization;

namespace RollingUpgrade.Journaling;

/// <summary>One line of a run's journal.</summary>
public sealed record JournalRecord
{
    [JsonPropertyName("seq")]
    public long Sequence { get; init; }

    [JsonPropertyName("at")]
    public DateTimeOffset At { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("run")]
    public string? RunId { get; init; }

    [JsonPropertyName("phase")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Phase { get; init; }

    [JsonPropertyName("step")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Step { get; init; }

    [JsonPropertyName("id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StepId { get; init; }

    [JsonPropertyName("message")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Data { get; init; }
}

/// <summary>The record types a journal holds.</summary>
public static class JournalTypes
{
    public const string RunStarted = "run-started";
    public const string RunResumed = "run-resumed";
    public const string StepStarted = "step-started";
    public const string StepSucceeded = "step-succeeded";
    public const string StepFailed = "step-failed";
    public const string StepVerified = "step-verified";
    public const string Fact = "fact";
    public const string RollbackStarted = "rollback-started";
    public const string RunFinished = "run-finished";
}
