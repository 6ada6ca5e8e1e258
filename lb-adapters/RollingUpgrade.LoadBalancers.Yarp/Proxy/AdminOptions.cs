using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public sealed record AdminOptions(IPEndPoint Listen, string? TokenEnv)
{
    public bool IsLoopback => IPAddress.IsLoopback(Listen.Address);
}
