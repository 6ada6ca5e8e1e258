namespace RollingUpgrade.Timing;

/// <summary>Timeouts and polls on an injected <see cref="TimeProvider"/>.</summary>
public static class Clock
{
    /// <summary>A token for one call that must end within <paramref name="timeout"/>.</summary>
    public static ClockTimeout Timeout(this TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new ClockTimeout(time, timeout, cancellationToken);
    }

    /// <summary>
    /// Asks <paramref name="probe"/> every <paramref name="interval"/> until <paramref name="done"/>
    /// holds for its answer or <paramref name="timeout"/> has passed (infinite: until cancelled).
    /// The probe always runs at least once, and once more at the deadline.
    /// </summary>
    public static async Task<PollResult<T>> PollAsync<T>(
        this TimeProvider time,
        TimeSpan interval,
        TimeSpan timeout,
        Func<CancellationToken, Task<T>> probe,
        Func<T, bool> done,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        var deadline =
            timeout == System.Threading.Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : time.GetUtcNow() + timeout;
        while (true)
        {
            var answer = await probe(cancellationToken).ConfigureAwait(false);
            if (done(answer))
            {
                return new PollResult<T>(true, answer);
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return new PollResult<T>(false, answer);
            }

            await Task.Delay(left < interval ? left : interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
