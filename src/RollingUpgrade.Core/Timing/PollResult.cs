namespace RollingUpgrade.Timing;

/// <summary>How a poll ended: whether the condition held, and the last answer.</summary>
public readonly record struct PollResult<T>(bool Done, T Last);
