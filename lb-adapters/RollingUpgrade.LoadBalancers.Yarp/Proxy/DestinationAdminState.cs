using System.Collections.Concurrent;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public enum DestinationAdminState
{
    Ready,
    Drain,
    Maintenance,
}
