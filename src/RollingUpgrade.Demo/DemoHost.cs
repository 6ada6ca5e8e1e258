using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Demo;

/// <summary>
/// What the demo needs from the program that hosts it: where to write, the real adapters, how a
/// run's progress is shown, and the command line that starts one demo node (the host's
/// <c>demo-node</c> command), since the demo nodes are processes of their own. <see cref="Watch"/>, when set, runs a
/// plan under a view of its own (the live view on a terminal);
/// </summary>
public sealed record DemoHost(
    TextWriter Output,
    TextWriter Error,
    IAdapterFactory Adapters,
    Func<IRunObserver> Progress,
    IReadOnlyList<string> NodeLauncher,
    Func<Plan, Func<IRunObserver, Task<RunOutcome>>, Task<RunOutcome>>? Watch = null
);
