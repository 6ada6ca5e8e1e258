using RollingUpgrade.Execution;
using RollingUpgrade.Planning;

namespace RollingUpgrade.Tests.Execution;

internal sealed class ActionFaults(Action<Step, FaultPoint, string> action) : IRunFaults
{
    public void At(Step step, FaultPoint point, string phase) => action(step, point, phase);
}
