namespace RollingUpgrade.Execution;

/// <summary>Thrown by fault injection to stand for the process dying; the executor does not catch it.</summary>
internal sealed class SimulatedCrashException(string message) : Exception(message);
