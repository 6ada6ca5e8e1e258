namespace RollingUpgrade.Demo.Load;

/// <summary>One client operation and how it ended.</summary>
public sealed record LoadEvent(DateTimeOffset At, int Client, string Operation, bool Succeeded, string Detail);
