using Microsoft.AspNetCore.Http.Features;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>An upgraded connection (WebSocket) whose bytes are counted for its destination.</summary>
internal sealed class CountingUpgradeFeature(IHttpUpgradeFeature inner, DestinationRuntime destination)
    : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() =>
        new CountingStream(await inner.UpgradeAsync().ConfigureAwait(false), destination);
}
