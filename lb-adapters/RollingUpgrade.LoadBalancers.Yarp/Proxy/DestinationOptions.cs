using System.Net;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

public sealed record DestinationOptions(string Name, string Host, int? HttpPort, int? TcpPort, int Weight);
