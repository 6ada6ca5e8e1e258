using System.Diagnostics;
using System.Text.Json;

namespace RollingUpgrade.Journaling;

public sealed record LockAttempt(RunLock? Lock, RunLock.Holder? Holder, bool HolderIsStale);
