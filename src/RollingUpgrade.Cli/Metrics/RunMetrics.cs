using System.Globalization;
using Prometheus;
using RollingUpgrade.Cli.Rendering;
using RollingUpgrade.Events;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Metrics;

/// <summary>
/// A run as Prometheus metrics, kept from its events: phase and step, each node's state and version, live
/// connections per node and balancer and the node's own sessions (read while a node drains), evictions, step and
/// drain durations, gate results, traffic weights, and whether the run holds its cluster.
/// </summary>
internal sealed class RunMetrics : IRunObserver
{
    private static readonly double[] DurationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600];

    private readonly Lock _gate = new();
    private readonly Plan _plan;
    private readonly Gauge _info;
    private readonly Gauge _phase;
    private readonly Gauge _step;
    private readonly Gauge _steps;
    private readonly Gauge _nodeState;
    private readonly Gauge _nodeVersion;
    private readonly Gauge _connections;
    private readonly Gauge _sessions;
    private readonly Gauge _evicted;
    private readonly Histogram _stepDuration;
    private readonly Histogram _drainDuration;
    private readonly Counter _gates;
    private readonly Gauge _green;
    private readonly Gauge _held;
    private readonly Gauge _finished;
    private readonly Dictionary<string, (string State, string Version)> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<int, (DateTimeOffset At, string Kind)> _running = [];
    private string? _phaseNow;

    public RunMetrics(Plan plan, CollectorRegistry registry)
    {
        _plan = plan;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        _info = f.CreateGauge(
            "rollingupgrade_run_info",
            "1 for the run: cluster, run id, strategy, target version.",
            "cluster",
            "run",
            "strategy",
            "target_version"
        );
        _phase = f.CreateGauge("rollingupgrade_run_phase", "1 for the phase the run is in.", "phase");
        _step = f.CreateGauge("rollingupgrade_run_step", "The number of the step running or last run.");
        _steps = f.CreateGauge("rollingupgrade_run_steps", "How many steps the run's current phase has.");
        _finished = f.CreateGauge(
            "rollingupgrade_run_finished",
            "1 once the run ended, with its outcome (succeeded, halted, rolled-back, interrupted).",
            "outcome"
        );
        _held = f.CreateGauge(
            "rollingupgrade_run_holds_cluster",
            "1 while this process holds the cluster's run lock or shared lease."
        );
        _nodeState = f.CreateGauge("rollingupgrade_node_state", "1 for each node's state.", "node", "state");
        _nodeVersion = f.CreateGauge(
            "rollingupgrade_node_version_info",
            "1 for the version each node runs.",
            "node",
            "version"
        );
        _connections = f.CreateGauge(
            "rollingupgrade_node_connections",
            "Live connections of the node at a load balancer (read while a node drains).",
            "node",
            "load_balancer"
        );
        _sessions = f.CreateGauge(
            "rollingupgrade_node_sessions",
            "The node's own session count (read while it drains).",
            "node"
        );
        _evicted = f.CreateGauge(
            "rollingupgrade_node_evicted_connections",
            "Connections evicted from the node in its current drain.",
            "node"
        );
        _stepDuration = f.CreateHistogram(
            "rollingupgrade_step_duration_seconds",
            "How long steps took, by kind.",
            new HistogramConfiguration { LabelNames = ["kind"], Buckets = DurationBuckets }
        );
        _drainDuration = f.CreateHistogram(
            "rollingupgrade_drain_duration_seconds",
            "How long nodes took to reach zero live connections.",
            new HistogramConfiguration { Buckets = DurationBuckets }
        );
        _gates = f.CreateCounter(
            "rollingupgrade_gate_results_total",
            "Gate results by gate and result (passed, failed).",
            "gate",
            "result"
        );
        _green = f.CreateGauge(
            "rollingupgrade_traffic_green_percent",
            "The share of traffic on the new cluster (parallel strategy)."
        );
        var from = plan.Upgrade.FromVersion ?? "old";
        foreach (var node in plan.Nodes)
        {
            SetNode(node.Name, "serving", from);
        }
    }

    public void OnEvent(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        lock (_gate)
        {
            Apply(runEvent);
        }
    }

    private void Apply(RunEvent e)
    {
        var kind = e.Data?.GetValueOrDefault("kind");
        var nodes = (e.Data?.GetValueOrDefault("nodes") ?? e.Node ?? string.Empty).Split(
            ',',
            StringSplitOptions.RemoveEmptyEntries
        );
        if (e.Phase is { } phase && phase != _phaseNow)
        {
            if (_phaseNow is not null)
            {
                _phase.WithLabels(_phaseNow).Set(0);
            }

            _phaseNow = phase;
            _phase.WithLabels(phase).Set(1);
        }

        if (e.TotalSteps is { } total)
        {
            _steps.Set(total);
        }

        switch (e.Type)
        {
            case RunEventTypes.RunStarted:
                _info
                    .WithLabels(
                        _plan.Cluster.Name,
                        e.RunId ?? string.Empty,
                        _plan.Strategy is RollingStrategySpec ? "rolling" : "parallel",
                        _plan.Upgrade.TargetVersion
                    )
                    .Set(1);
                _held.Set(1);
                break;
            case RunEventTypes.StepStarted:
                if (e.Step is { } number)
                {
                    _step.Set(number);
                    _running[number] = (e.At, kind ?? "step");
                }

                foreach (var node in nodes)
                {
                    SetNode(node, NodeStates.Starting(kind, e.Phase), null);
                }

                break;
            case RunEventTypes.StepSucceeded or RunEventTypes.StepFailed:
                if (e.Step is { } ended && _running.Remove(ended, out var began))
                {
                    var seconds = Math.Max(0, (e.At - began.At).TotalSeconds);
                    _stepDuration.WithLabels(began.Kind).Observe(seconds);
                    if (began.Kind == "WaitDrained" && e.Type == RunEventTypes.StepSucceeded)
                    {
                        _drainDuration.Observe(seconds);
                    }

                    kind ??= began.Kind;
                }

                foreach (var node in nodes)
                {
                    var upgraded = kind is "Start" or "ProvisionGreen" && e.Phase != "rollback";
                    SetNode(
                        node,
                        e.Type == RunEventTypes.StepFailed ? "failed" : NodeStates.Done(kind, e.Phase),
                        upgraded ? _plan.Upgrade.TargetVersion : null
                    );
                }

                if (
                    kind == "ShiftTraffic"
                    && e.Type == RunEventTypes.StepSucceeded
                    && double.TryParse(
                        e.Data?.GetValueOrDefault("green_percent"),
                        NumberStyles.Float,
                        CultureInfo.InvariantCulture,
                        out var green
                    )
                )
                {
                    _green.Set(green);
                }

                break;
            case RunEventTypes.Progress when e.Message.StartsWith("gate '", StringComparison.Ordinal):
                CountGate(e.Message, "passed");
                break;
            case RunEventTypes.StepFailed
            or RunEventTypes.Warning when e.Message.StartsWith("gate '", StringComparison.Ordinal):
                CountGate(e.Message, "failed");
                break;
            case RunEventTypes.Sample:
                ApplySample(e);
                break;
            case RunEventTypes.RunFinished:
                _finished.WithLabels(e.Data?.GetValueOrDefault("outcome") ?? "ended").Set(1);
                _held.Set(0);
                break;
        }
    }

    private void CountGate(string message, string result)
    {
        var end = message.IndexOf('\'', 6);
        if (end > 6 && (result == "failed" || message.Contains(" passed", StringComparison.Ordinal)))
        {
            _gates.WithLabels(message[6..end], result).Inc();
        }
    }

    private void ApplySample(RunEvent e)
    {
        if (e.Data is null)
        {
            return;
        }

        var node = e.Data.GetValueOrDefault("node");
        foreach (var (key, value) in e.Data)
        {
            if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
            {
                continue;
            }

            var at = key.IndexOf('@', StringComparison.Ordinal);
            if (at > 0)
            {
                _connections.WithLabels(key[..at], key[(at + 1)..]).Set(count);
            }
            else if (key == "sessions" && node is not null)
            {
                _sessions.WithLabels(node).Set(count);
            }
            else if (key == "evicted" && node is not null)
            {
                _evicted.WithLabels(node).Set(count);
            }
        }
    }

    private void SetNode(string node, string? state, string? version)
    {
        var (oldState, oldVersion) = _nodes.GetValueOrDefault(node, (string.Empty, string.Empty));
        var newState = state ?? oldState;
        var newVersion = version ?? oldVersion;
        if (newState != oldState)
        {
            if (oldState.Length > 0)
            {
                _nodeState.WithLabels(node, oldState).Set(0);
            }

            _nodeState.WithLabels(node, newState).Set(1);
        }

        if (newVersion != oldVersion)
        {
            if (oldVersion.Length > 0)
            {
                _nodeVersion.RemoveLabelled(node, oldVersion);
            }

            _nodeVersion.WithLabels(node, newVersion).Set(1);
        }

        _nodes[node] = (newState, newVersion);
    }
}
