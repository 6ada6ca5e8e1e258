using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

/// <summary>
/// The pace of an eviction in sessions per second: the plan's fixed <c>eviction_rate</c>, or with
/// <c>eviction_rate = "auto"</c> a pace that starts low and, once a second, rises by a twentieth of
/// <c>max_eviction_rate</c> while the serving nodes take the evicted clients back (at least half of what one window
/// evicted is back in the next, no more than about three seconds of the pace on the way, no new errors at their
/// balancers, and a login through the plan's xmpp-login gate on one of them passing within its max_latency) and
/// halves when they do not.
/// </summary>
internal sealed class EvictionPace
{
    /// <summary>Where an adaptive pace starts (or max_eviction_rate when that is lower).</summary>
    private const double Start = 5;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Seconds of the pace that may be on their way back at once (clients reconnect after a back-off).
    /// </summary>
    private const double InFlightSeconds = 3;

    private readonly RunContext _context;
    private readonly Step _step;
    private readonly NodeSpec _node;
    private readonly DrainSpec _drain;
    private DateTimeOffset _windowStarted = DateTimeOffset.MinValue;
    private long _evicted;
    private long _evictedBefore;
    private long _back;
    private long _errors;
    private readonly GateSpec? _login;
    private int _logins;

    /// <summary>
    /// How many nodes evict at once: the nodes of a batch that wait for their connections together share the pace,
    /// so the serving nodes take clients back at the plan's pace, not at that pace times the batch.
    /// </summary>
    private readonly int _share;

    public EvictionPace(RunContext context, Step step, NodeSpec node)
    {
        _context = context;
        _step = step;
        _node = node;
        _drain = context.Plan.Strategy.Drain;
        _login = _drain.AdaptivePace ? context.Plan.Gates.FirstOrDefault(g => g.Kind == GateKinds.XmppLogin) : null;
        _share = step.Wave is { } wave
            ? Math.Max(1, context.Steps.Steps.Count(s => s.Wave == wave && s.Kind == StepKind.WaitDrained))
            : 1;
        Current = (_drain.AdaptivePace ? Math.Min(Start, _drain.MaxEvictionRate) : _drain.EvictionRate) / _share;
    }

    /// <summary>This node's share of max_eviction_rate (sessions ended before a stop go at most this fast).</summary>
    public double Ceiling => _drain.MaxEvictionRate / _share;

    public string CeilingText =>
        Ceiling.ToString("0.##", CultureInfo.InvariantCulture)
        + (_share > 1 ? $", its share of {_drain.MaxEvictionRate}/s with {_share - 1} other node(s) of its batch" : "");

    /// <summary>
    /// The plan's xmpp-login gate, on one receiving node after another: a login that fails, or takes longer than the
    /// gate's max_latency (its timeout when unset), is trouble. Null when the login passed within it.
    /// </summary>
    private async Task<string?> LoginTroubleAsync(
        IReadOnlyList<NodeSpec> receivers,
        CancellationToken cancellationToken
    )
    {
        var node = receivers[_logins++ % receivers.Count];
        var bound = _login!.MaxLatency ?? _login.Timeout;
        using var timeout = _context.Time.Timeout(bound, cancellationToken);
        var started = _context.Time.GetTimestamp();
        GateOutcome outcome;
        try
        {
            outcome = await _context.Probe.CheckAsync(_login, node, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"a login on {node.Name} ({_login.Name}) took longer than {DurationText.Format(bound)}";
        }
        catch (Exception e) when (e is Ports.TransientException or Ports.UnexpectedAnswerException or IOException)
        {
            return $"a login on {node.Name} ({_login.Name}) failed: {e.Message}";
        }

        var took = _context.Time.GetElapsedTime(started);
        return !outcome.Passed ? $"a login on {node.Name} ({_login.Name}) failed: {outcome.Detail}"
            : took > bound ? $"a login on {node.Name} ({_login.Name}) took {DurationText.Format(took)}"
            : null;
    }

    /// <summary>Sessions per second now.</summary>
    public double Current { get; private set; }

    public string Text => Current.ToString(_share > 1 ? "0.##" : "0.#", CultureInfo.InvariantCulture);

    /// <summary>
    /// Once a window, for an adaptive pace: reads how many evicted sessions came back on the serving nodes and the
    /// balancers' new errors, and raises or halves the pace.
    /// </summary>
    public async Task AdjustAsync(TakeoverCheck? takeover, long evicted, CancellationToken cancellationToken)
    {
        var now = _context.Time.GetUtcNow();
        if (!_drain.AdaptivePace || now - _windowStarted < Window)
        {
            return;
        }

        if (_windowStarted == DateTimeOffset.MinValue)
        {
            _windowStarted = now;
            return;
        }

        _windowStarted = now;
        // Without a reading of the serving nodes there is no sign that they keep up: the pace stays.
        if (takeover is null || await takeover.ProgressAsync(cancellationToken).ConfigureAwait(false) is not { } p)
        {
            return;
        }

        // Clients come back a moment after they are evicted: what came back in this window is set against what was
        // evicted in the window before.
        string? trouble = null;
        var away = evicted - p.Back;
        var cameBack = p.Back - _back;
        if (p.NewErrors > _errors)
        {
            trouble = $"{p.NewErrors - _errors} new error(s) at the serving nodes' load balancers";
        }
        else if (away > Math.Max(3, Current * InFlightSeconds) || cameBack * 2 < _evictedBefore)
        {
            trouble = $"{away} evicted session(s) not back on the serving nodes yet";
        }
        else if (_login is not null && takeover.Receivers.Count > 0)
        {
            trouble = await LoginTroubleAsync(takeover.Receivers, cancellationToken).ConfigureAwait(false);
        }

        _errors = p.NewErrors;
        _evictedBefore = evicted - _evicted;
        _evicted = evicted;
        _back = p.Back;

        var before = Current;
        Current = trouble is null
            ? Math.Min(Ceiling, Current + Math.Max(1, _drain.MaxEvictionRate / 20.0) / _share)
            : Math.Max(1.0 / _share, _share == 1 ? Math.Floor(Current / 2) : Current / 2);
        if (Current == before)
        {
            return;
        }

        var was = before.ToString("0.#", CultureInfo.InvariantCulture);
        _context.Emit(
            RunEventTypes.Progress,
            trouble is null
                ? $"{_node.Name}: eviction pace {was}/s -> {Text}/s (the serving nodes keep up)"
                : $"{_node.Name}: eviction pace {was}/s -> {Text}/s ({trouble})",
            _step,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["pace"] = Text }
        );
    }
}
