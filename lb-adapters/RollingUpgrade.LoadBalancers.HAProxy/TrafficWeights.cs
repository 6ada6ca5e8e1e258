namespace RollingUpgrade.LoadBalancers.HAProxy;

/// <summary>
/// Turns "green gets P percent of new traffic" into HAProxy server weights (0..256): each side's
/// share is split evenly over its servers, and the weights are scaled so the largest is 256,
/// which keeps rounding error small.
/// </summary>
internal static class TrafficWeights
{
    public const int Max = 256;

    public static (int Blue, int Green) PerServer(int blueServers, int greenServers, int greenPercent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blueServers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(greenServers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(greenPercent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(greenPercent, 100);
        var blueShare = (100.0 - greenPercent) / blueServers;
        var greenShare = (double)greenPercent / greenServers;
        var scale = Max / Math.Max(blueShare, greenShare);
        return ((int)Math.Round(blueShare * scale), (int)Math.Round(greenShare * scale));
    }
}
