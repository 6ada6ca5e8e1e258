using RollingUpgrade.Planning;

namespace RollingUpgrade.Execution;

/// <summary>Where a run can be cut short by fault injection (tests of journal and resume).</summary>
public enum FaultPoint
{
    /// <summary>After the step's intent is journalled, before it runs.</summary>
    BeforeExecute,

    /// <summary>After the step ran, before its outcome is journalled.</summary>
    AfterExecute,

    /// <summary>After the outcome is journalled.</summary>
    AfterRecord,
}

/// <summary>Called by the executor at each <see cref="FaultPoint"/>; throws to simulate a crash.</summary>
public interface IRunFaults
{
    void At(Step step, FaultPoint point, string phase);
}

/// <summary>Thrown by fault injection to stand for the process dying; the executor does not catch it.</summary>
public sealed class SimulatedCrashException(string message) : Exception(message);
