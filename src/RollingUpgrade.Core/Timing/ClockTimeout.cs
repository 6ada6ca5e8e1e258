namespace RollingUpgrade.Timing;

/// <summary>
/// A token cancelled by the caller's token or when <c>timeout</c> passes on the injected clock,
/// so every timeout runs on the fake clock in tests. <see cref="TimedOut"/> tells the two apart.
/// </summary>
public sealed class ClockTimeout : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    internal ClockTimeout(TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
    }

    public CancellationToken Token => _linked.Token;

    /// <summary>True when the clock, not the caller, cancelled.</summary>
    public bool TimedOut => _timer.IsCancellationRequested;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
