using System.Diagnostics;

namespace RollingUpgrade.Demo;

/// <summary>
/// Says what the demo is preparing at once, and again every 5 s while it takes (a cluster of real nodes takes a
/// minute or two to form on a busy machine), so the demo is never silent.
/// </summary>
internal sealed class Preparing : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private Preparing(TextWriter output, string what)
    {
        output.WriteLine($"preparing: {what} ...");
        output.Flush();
        _loop = RemindAsync(output, what, _stop.Token);
    }

    public static Preparing Start(TextWriter output, string what) => new(output, what);

    private static async Task RemindAsync(TextWriter output, string what, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                await Task.Delay(Interval, stop).ConfigureAwait(false);
                await output
                    .WriteLineAsync($"preparing: {what} ({watch.Elapsed.TotalSeconds:0}s)")
                    .ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Done.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
