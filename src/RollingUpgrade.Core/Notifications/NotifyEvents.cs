namespace RollingUpgrade.Notifications;

/// <summary>What a <c>[[notify]]</c> receiver can be told of.</summary>
public static class NotifyEvents
{
    public const string Started = "started";
    public const string NodeDone = "node-done";
    public const string WaitingForPromote = "waiting-for-promote";
    public const string Halted = "halted";
    public const string RolledBack = "rolled-back";
    public const string Succeeded = "succeeded";
    public const string LeaseLost = "lease-lost";

    public static readonly string[] All =
    [
        Started,
        NodeDone,
        WaitingForPromote,
        Halted,
        RolledBack,
        Succeeded,
        LeaseLost,
    ];
}
