using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Fakes;

public sealed class FakeAdapters(FakeWorld world) : IAdapterFactory, IShellFactory, IGateProbe
{
    public Dictionary<string, FakeLoadBalancer> LoadBalancers { get; } = new(StringComparer.Ordinal);

    public FakeProduct Product { get; } = new(world);

    /// <summary>Network gates fail on these nodes.</summary>
    public HashSet<string> FailingProbeNodes { get; } = new(StringComparer.Ordinal);

    public ILoadBalancer CreateLoadBalancer(LoadBalancerSpec spec, Plan plan)
    {
        if (!LoadBalancers.TryGetValue(spec.Name, out var lb))
        {
            lb = new FakeLoadBalancer(spec.Name, world);
            LoadBalancers[spec.Name] = lb;
        }

        return lb;
    }

    public IProduct CreateProduct(Plan plan, IShellFactory shells, ICommandValues values) => Product;

    public IShellFactory CreateShells(Plan plan) => this;

    public IGateProbe CreateGateProbe(Plan plan) => this;

    public INodeShell For(NodeSpec node) => new FakeShell(world, node);

    /// <summary>Network gates never answer on these nodes (until cancelled).</summary>
    public HashSet<string> HangingProbeNodes { get; } = new(StringComparer.Ordinal);

    public int ProbeCalls { get; private set; }

    /// <summary>What prometheus gates read, one answer per query (the last one repeats); none: no data.</summary>
    public Queue<IReadOnlyList<double>> MetricAnswers { get; } = new();

    private IReadOnlyList<double> _lastMetric = [];

    public Task<IReadOnlyList<double>> QueryAsync(GateSpec gate, CancellationToken cancellationToken)
    {
        if (MetricAnswers.TryDequeue(out var next))
        {
            _lastMetric = next;
        }

        return Task.FromResult(_lastMetric);
    }

    public async Task<GateOutcome> CheckAsync(GateSpec gate, NodeSpec node, CancellationToken cancellationToken)
    {
        ProbeCalls++;
        if (HangingProbeNodes.Contains(node.Name))
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        return FailingProbeNodes.Contains(node.Name)
            ? new GateOutcome(false, "connection refused")
            : new GateOutcome(true, "ok");
    }
}
