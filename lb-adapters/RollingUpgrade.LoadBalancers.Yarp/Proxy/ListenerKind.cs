using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public enum ListenerKind
{
    Http,
    Tcp,
}
