using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RollingUpgrade.Cli.Rendering;

/// <summary>
/// The live view of a run on a terminal, redrawn in place: a table of nodes (state, version, live connections per
/// load balancer, the node's own sessions), the current step with its elapsed time and what it waits for (the drain's
/// time left, the eviction so far), traffic weights for parallel runs, and the last events. Warnings and failures stay
/// in the view and are printed again as plain lines when the run ends, so none is hidden.
/// </summary>
internal sealed class LiveView : IRunObserver
{
    private const int RecentEvents = 6;

    private readonly IAnsiConsole _console;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<string> _balancers;
    private readonly string _target;
    private readonly Lock _gate = new();
    private readonly List<Row> _rows;
    private readonly Queue<(string Text, bool Problem)> _recent = new();
    private readonly List<string> _problems = [];
    private RunEvent? _step;
    private DateTimeOffset _stepSeen;
    private RunEvent? _beat;
    private RunEvent? _sample;
    private int? _green;
    private (DateTimeOffset At, long Evicted)? _evictionBegan;
    private LiveDisplayContext? _live;

    public LiveView(IAnsiConsole console, SecretRedactor redactor, Plans.Model.Plan plan, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _console = console;
        _redactor = redactor;
        _time = time ?? TimeProvider.System;
        _balancers = plan.LoadBalancers.Select(l => l.Name).ToList();
        _target = plan.Upgrade.TargetVersion;
        var from = plan.Upgrade.FromVersion ?? "old";
        _rows =
        [
            .. plan.Nodes.Select(n => new Row(n.Name, "serving", from, green: false)),
            .. plan.GreenNodes.Select(n => new Row(n.Name, "not started", "-", green: true)),
        ];
    }

    /// <summary>Runs <paramref name="body"/> with the view drawn; the problems seen are printed after it.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var result = default(T)!;
        await _console
            .Live(Render())
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .Cropping(VerticalOverflowCropping.Top)
            .StartAsync(async live =>
            {
                lock (_gate)
                {
                    _live = live;
                }

                using var stop = new CancellationTokenSource();
                var ticks = TickAsync(live, stop.Token);
                try
                {
                    result = await body().ConfigureAwait(false);
                }
                finally
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    await ticks.ConfigureAwait(false);
                    lock (_gate)
                    {
                        _live = null;
                        live.UpdateTarget(Render());
                        live.Refresh();
                    }
                }
            })
            .ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var problem in _problems)
            {
                _console.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            }
        }

        return result;
    }

    public void OnEvent(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        lock (_gate)
        {
            Apply(runEvent);
            if (_live is { } live)
            {
                live.UpdateTarget(Render());
                live.Refresh();
            }
        }
    }

    /// <summary>The elapsed time moves on between events too.</summary>
    private async Task TickAsync(LiveDisplayContext live, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_live is not null)
                    {
                        live.UpdateTarget(Render());
                        live.Refresh();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private void Apply(RunEvent e)
    {
        var kind = e.Data?.GetValueOrDefault("kind");
        var nodes = Nodes(e);
        switch (e.Type)
        {
            case RunEventTypes.StepStarted:
                _step = e;
                _stepSeen = _time.GetUtcNow();
                _beat = null;
                _sample = null;
                _evictionBegan = null;
                foreach (var row in nodes)
                {
                    row.State = NodeStates.Starting(kind, e.Phase) ?? row.State;
                }

                Remember($"{Step(e)} {e.Message}", problem: false);
                break;
            case RunEventTypes.StepSucceeded:
                foreach (var row in nodes)
                {
                    row.State = NodeStates.Done(kind, e.Phase) ?? row.State;
                    if (kind is "Start" or "ProvisionGreen" && e.Phase != "rollback")
                    {
                        row.Version = _target;
                    }
                }

                if (kind == "ShiftTraffic" && int.TryParse(e.Data?.GetValueOrDefault("green_percent"), out var green))
                {
                    _green = green;
                }

                break;
            case RunEventTypes.StepFailed:
                foreach (var row in nodes)
                {
                    row.State = $"FAILED ({Words(kind)})";
                    row.Failed = true;
                }

                Remember($"{Step(e)} FAILED: {e.Message}", problem: true);
                break;
            case RunEventTypes.Warning:
                Remember($"{Step(e)} warning: {e.Message}", problem: true);
                break;
            case RunEventTypes.Heartbeat:
                _beat = e;
                break;
            case RunEventTypes.Sample:
                _sample = e;
                if (
                    _evictionBegan is null
                    && long.TryParse(e.Data?.GetValueOrDefault("evicted"), out var first)
                    && first > 0
                )
                {
                    _evictionBegan = (e.At, first);
                }

                ApplySample(e);
                break;
            case RunEventTypes.Progress or RunEventTypes.RunStarted or RunEventTypes.RollbackStarted:
                Remember(e.Message, problem: false);
                break;
            case RunEventTypes.RunFinished:
                _step = null;
                _beat = null;
                Remember(e.Message, problem: e.Data?.GetValueOrDefault("outcome") is not "succeeded");
                break;
        }
    }

    private void ApplySample(RunEvent e)
    {
        foreach (var (key, value) in e.Data ?? new Dictionary<string, string>())
        {
            var at = key.IndexOf('@', StringComparison.Ordinal);
            if (at > 0 && _rows.FirstOrDefault(r => r.Name == key[..at]) is { } row && long.TryParse(value, out var n))
            {
                row.Connections[key[(at + 1)..]] = n;
            }
        }

        if (
            _rows.FirstOrDefault(r => r.Name == e.Data?.GetValueOrDefault("node")) is { } node
            && long.TryParse(e.Data?.GetValueOrDefault("sessions"), out var sessions)
        )
        {
            node.Sessions = sessions;
        }
    }

    private List<Row> Nodes(RunEvent e)
    {
        var names = e.Node is { } one ? [one] : e.Data?.GetValueOrDefault("nodes")?.Split(',') ?? [];
        return _rows.Where(r => names.Contains(r.Name, StringComparer.Ordinal)).ToList();
    }

    private void Remember(string text, bool problem)
    {
        var line = $"{_time.GetLocalNow():HH:mm:ss} {_redactor.Redact(text)}";
        _recent.Enqueue((line, problem));
        while (_recent.Count > RecentEvents)
        {
            _recent.Dequeue();
        }

        if (problem)
        {
            _problems.Add(line);
        }
    }

    private Rows Render()
    {
        var parts = new List<IRenderable> { new Markup(Heading()) };
        if (Waiting() is { } waiting)
        {
            parts.Add(new Markup(waiting));
        }

        if (_green is { } green)
        {
            parts.Add(new Markup($"traffic: old cluster [bold]{100 - green}%[/], new cluster [bold]{green}%[/]"));
        }

        parts.Add(Table());
        parts.Add(new Markup("[bold]last events[/]"));
        foreach (var (text, problem) in _recent)
        {
            parts.Add(new Markup(problem ? $"[red]{Markup.Escape(text)}[/]" : Markup.Escape(text)));
        }

        return new Rows(parts);
    }

    private string Heading()
    {
        if (_step is not { } step)
        {
            return "[bold]rollingupgrade[/]: no step running";
        }

        var elapsed = _time.GetUtcNow() - _stepSeen;
        var phase = step.Phase == "rollback" ? " (rollback)" : string.Empty;
        return $"[bold]step {step.Step}/{step.TotalSteps}[/]{phase}: "
            + $"{Markup.Escape(_redactor.Redact(step.Message))} [grey]({Clock(elapsed)} elapsed)[/]";
    }

    /// <summary>What the step waits for, as its last heartbeat said, with the time left counted down since.</summary>
    private string? Waiting()
    {
        var lines = new List<string>();
        if (_beat is { } beat)
        {
            var text = Markup.Escape(_redactor.Redact(beat.Message));
            if (long.TryParse(beat.Data?.GetValueOrDefault("left_s"), out var left))
            {
                var now = Math.Max(0, left - (long)(_time.GetUtcNow() - beat.At).TotalSeconds);
                text += $" [yellow](deadline in {Clock(TimeSpan.FromSeconds(now))})[/]";
            }

            lines.Add(text);
        }

        if (
            _sample?.Data is { } data
            && long.TryParse(data.GetValueOrDefault("evicted"), out var evicted)
            && evicted > 0
            && long.TryParse(data.GetValueOrDefault("connections"), out var remaining)
        )
        {
            var pace =
                _evictionBegan is { } began && _sample.At - began.At >= TimeSpan.FromSeconds(1)
                    ? $", {(evicted - began.Evicted) / (_sample.At - began.At).TotalSeconds:0.#}/s"
                    : string.Empty;
            lines.Add(
                $"evicting {Markup.Escape(data.GetValueOrDefault("node") ?? "?")}: [bold]{evicted}[/] evicted, "
                    + $"[bold]{remaining}[/] remaining{pace}"
            );
        }

        return lines.Count == 0 ? null : string.Join('\n', lines);
    }

    private Table Table()
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("node");
        table.AddColumn("state");
        table.AddColumn("version");
        foreach (var lb in _balancers)
        {
            table.AddColumn(new TableColumn(Markup.Escape($"conns @ {lb}")).RightAligned());
        }

        table.AddColumn(new TableColumn("sessions on node").RightAligned());
        foreach (var row in _rows)
        {
            var state = Markup.Escape(row.State);
            var cells = new List<string>
            {
                Markup.Escape(row.Name) + (row.Green ? " [grey](new)[/]" : string.Empty),
                row.Failed ? $"[red]{state}[/]"
                : row.State is "draining" or "evicting" ? $"[yellow]{state}[/]"
                : row.State is "serving" or "in rotation" ? $"[green]{state}[/]"
                : state,
                Markup.Escape(row.Version),
            };
            cells.AddRange(
                _balancers.Select(lb =>
                    row.Connections.TryGetValue(lb, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "-"
                )
            );
            cells.Add(row.Sessions?.ToString(CultureInfo.InvariantCulture) ?? "-");
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    private static string Words(string? kind) =>
        string.Concat(
                (kind ?? "step").Select(
                    (c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()
                )
            )
            .ToLowerInvariant();

    private static string Step(RunEvent e) => e.Step is { } n ? $"[{n}/{e.TotalSteps}]" : string.Empty;

    private static string Clock(TimeSpan span) =>
        span.TotalHours >= 1
            ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private sealed class Row(string name, string state, string version, bool green)
    {
        public string Name { get; } = name;

        public string State { get; set; } = state;

        public string Version { get; set; } = version;

        public bool Green { get; } = green;

        public bool Failed { get; set; }

        public Dictionary<string, long> Connections { get; } = new(StringComparer.Ordinal);

        public long? Sessions { get; set; }
    }
}
