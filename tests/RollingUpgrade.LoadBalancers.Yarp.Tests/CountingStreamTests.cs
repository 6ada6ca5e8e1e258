using RollingUpgrade.LoadBalancers.Yarp;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Tests;

/// <summary>
/// Bytes are counted as the proxy hands them over: a client that has seen them arrive and then reads the metrics
/// finds them counted (a CI run read the metrics between the write and the count that followed it).
/// </summary>
public sealed class CountingStreamTests
{
    [Fact(Timeout = 10_000)]
    public async Task A_write_to_the_client_is_counted_before_it_completes()
    {
        var destination = new DestinationRuntime("xmpp", new DestinationOptions("n1", "127.0.0.1", 5280, null, 100));
        var inner = new HeldWrites();
        await using var counting = new CountingStream(inner, destination);

        var write = counting.WriteAsync(new byte[17]).AsTask();
        await inner.Started.Task;
        destination.BytesToClients.ShouldBe(17);
        write.IsCompleted.ShouldBeFalse();
        inner.Release.SetResult();
        await write;
        destination.BytesToClients.ShouldBe(17);
        destination.BytesToDestination.ShouldBe(0);
    }

    /// <summary>A stream whose writes wait until released, saying when one has begun.</summary>
    private sealed class HeldWrites : MemoryStream
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Release.Task.ConfigureAwait(false);
            await base.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }
}
