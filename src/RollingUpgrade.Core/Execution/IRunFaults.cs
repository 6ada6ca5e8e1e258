using RollingUpgrade.Planning;

namespace RollingUpgrade.Execution;

/// <summary>Called by the executor at each <see cref="FaultPoint"/>; throws to simulate a crash.</summary>
internal interface IRunFaults
{
    void At(Step step, FaultPoint point, string phase);
}
