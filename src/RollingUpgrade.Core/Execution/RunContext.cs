using Polly;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>Everything a step needs: the plan, the ports, the clock, the journal and what was learned so far.</summary>
internal sealed class RunContext
{
    public required Plan Plan { get; init; }

    public required ExecutionPlan Steps { get; init; }

    public required IReadOnlyList<ILoadBalancer> LoadBalancers { get; init; }

    public required IProduct Product { get; init; }

    public required IShellFactory Shells { get; init; }

    public required IGateProbe Probe { get; init; }

    public required TimeProvider Time { get; init; }

    public required IJournalWriter Journal { get; init; }

    public required IRunObserver Observer { get; init; }

    /// <summary>The diagnostic log (not the run's story).</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; init; } =
        Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Where runs live: the staging-first gate reads it, promote and rollback requests arrive in it.</summary>
    public required IRunStore Store { get; init; }

    /// <summary>The run slot this run holds; once <see cref="IRunClaim.Lost"/>, nothing more is touched.</summary>
    public required IRunClaim Claim { get; init; }

    public RunState Facts { get; init; } = new();

    public string Operator { get; init; } = Audit.DefaultOperator;

    public string? Reason { get; init; }

    public bool OverrideStaging { get; init; }

    /// <summary>See <see cref="RunOptions.AdoptDrained"/>.</summary>
    public bool AdoptDrained { get; init; }

    /// <summary>The placeholder values of the step being run; the product was given the same.</summary>
    internal required StepCommandValues Values { get; init; }

    public ResiliencePipeline Transient { get; init; } = ResiliencePipeline.Empty;

    /// <summary>The plan's time forecast (expected from the last succeeded run where there is one).</summary>
    public Forecast? Forecast { get; init; }

    /// <summary>When the run began (its run-started record), for the comparison with the forecast.</summary>
    public DateTimeOffset? Began { get; set; }

    public string RunId => Journal.RunId;

    public RunPhase Phase { get; set; }

    private readonly AsyncLocal<StepScope?> _scope = new();
    private readonly StepScope _outside = new();
    private readonly Lock _emitting = new();

    /// <summary>
    /// What belongs to the step now running in the calling async flow: the steps of a batch run at once, each in
    /// its own flow, and each sees its own start time and wait (its heartbeat too: it starts inside the step).
    /// </summary>
    private StepScope Scope => _scope.Value ?? _outside;

    /// <summary>Makes a new step the one in force for the calling async flow.</summary>
    public void EnterStep(DateTimeOffset startedAt) => _scope.Value = new StepScope { StartedAt = startedAt };

    /// <summary>When the step now running was first started (resume keeps the original time for pauses).</summary>
    public DateTimeOffset StepStartedAt
    {
        get => Scope.StartedAt;
        set => Scope.StartedAt = value;
    }

    /// <summary>
    /// When each node's last drain step of this process began: the drain proof counts the propagation from there
    /// (a resumed wait, whose drain ran in an earlier process, counts from its own start).
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> DrainedAt { get; } =
        new(StringComparer.Ordinal);

    /// <summary>
    /// Version affinity: the nodes (and balancers) this run holds out of new sessions while they keep their own, until
    /// each one's own drain; they still count as serving for the capacity rule. A halt or a rollback returns them.
    /// </summary>
    public HeldNodes Held { get; } = new();

    /// <summary>What the step now running waits for, as its heartbeat says it; null: the step's description.</summary>
    public WaitStatus? Waiting
    {
        get => Scope.Waiting;
        set => Scope.Waiting = value;
    }

    public TimeSpan? HeartbeatInterval { get; init; }

    public IReadOnlyList<NodeSpec> Blue => Plan.Nodes;

    public IReadOnlyList<NodeSpec> Green => Plan.GreenNodes;

    public NodeSpec Node(string name) => Plan.Node(name);

    public ILoadBalancer LoadBalancer(string name) => LoadBalancers.First(l => l.Name == name);

    public void Fact(string key, string value)
    {
        Facts.Set(key, value);
        Journal.Append(
            new JournalRecord
            {
                Type = JournalTypes.Fact,
                Phase = Phase.Text(),
                Data = new() { ["key"] = key, ["value"] = value },
            }
        );
    }

    public void Emit(string type, string message, Step? step = null, IReadOnlyDictionary<string, string>? data = null)
    {
        // Observers (the terminal, the live view, webhooks) see one event at a time, in order.
        lock (_emitting)
        {
            Observer.OnEvent(
                new RunEvent(Time.GetUtcNow(), type, message)
                {
                    RunId = RunId,
                    Step = step?.Number,
                    TotalSteps = Steps.Steps.Count,
                    Node = step?.Node,
                    Phase = Phase.Text(),
                    Data = data,
                }
            );
        }
    }

    public CommandOptions CommandOptions(TimeSpan? timeout = null) =>
        new(timeout ?? Plan.Access.CommandTimeout, Plan.Access.Sudo);

    /// <summary>The config backup next to the config file, named after the run so resume finds it again.</summary>
    public string BackupPath(NodeSpec node) => Values.BackupPath(node);

    public string BackupFolder(NodeSpec node) => Values.BackupFolder(node);
}

/// <summary>The start time and the wait of one running step (see <see cref="RunContext.EnterStep"/>).</summary>
internal sealed class StepScope
{
    public DateTimeOffset StartedAt { get; set; }

    public WaitStatus? Waiting { get; set; }
}

/// <summary>
/// The (node, balancer) pairs version affinity holds out of new sessions; read and changed by the drains of a batch
/// at once.
/// </summary>
internal sealed class HeldNodes
{
    private readonly HashSet<(string Node, string LoadBalancer)> _held = [];
    private readonly Lock _gate = new();

    public bool Contains((string Node, string LoadBalancer) pair)
    {
        lock (_gate)
        {
            return _held.Contains(pair);
        }
    }

    public void Add((string Node, string LoadBalancer) pair)
    {
        lock (_gate)
        {
            _held.Add(pair);
        }
    }

    public void Remove((string Node, string LoadBalancer) pair)
    {
        lock (_gate)
        {
            _held.Remove(pair);
        }
    }

    public void UnionWith(IEnumerable<(string Node, string LoadBalancer)> pairs)
    {
        lock (_gate)
        {
            _held.UnionWith(pairs);
        }
    }

    public List<(string Node, string LoadBalancer)> ToList()
    {
        lock (_gate)
        {
            return [.. _held];
        }
    }
}
