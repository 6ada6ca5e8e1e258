namespace RollingUpgrade.State.Postgres;

/// <summary>
/// Keeps a run lease alive from the background: renews it every <c>ttl / 3</c> (10 s for a 30 s lease), and once
/// a renewal fails (the database unreachable, the lease expired or taken over) cancels <see cref="Lost"/> for good,
/// so the run stops at its next safe point; its journal appends are refused by the database from then on anyway.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly PostgresLease _lease;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LeaseKeeper(PostgresLease lease, TimeSpan ttl, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(lease);
        _lease = lease;
        Interval = ttl / 3;
        _loop = RunAsync(time ?? TimeProvider.System);
    }

    public TimeSpan Interval { get; }

    /// <summary>Cancelled when the lease is lost; never un-cancelled.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Why the lease was lost, once it is.</summary>
    public string? Reason { get; private set; }

    private async Task RunAsync(TimeProvider time)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(Interval);
            bool renewed;
            try
            {
                renewed = await _lease.RenewAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                renewed = false;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!renewed)
            {
                Reason =
                    $"the run lease of {_lease.Cluster} (epoch {_lease.Epoch}) could not be renewed: the database did "
                    + "not answer in time, or the lease expired or was taken over";
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _lost.Dispose();
    }
}
