namespace RollingUpgrade.Journaling;

/// <summary>
/// How taking a cluster's lock went: the lock when taken; otherwise who holds it and whether that
/// holder is gone. When a lock was taken over from a provably dead holder, <see cref="Holder"/>
/// names it and <see cref="HolderIsStale"/> is true.
/// </summary>
public sealed record LockAttempt(RunLock? Lock, RunLock.Holder? Holder, bool HolderIsStale);
