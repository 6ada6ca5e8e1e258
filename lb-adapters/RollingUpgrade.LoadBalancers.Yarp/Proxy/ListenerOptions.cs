using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public sealed record ListenerOptions(ListenerKind Kind, IPEndPoint Listen, string Cluster);
