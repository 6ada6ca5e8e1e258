using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary>A runtime API socket: a unix socket path, or <c>tcp:HOST:PORT</c>.</summary>
public sealed record HAProxyEndpoint(string Text)
{
    public bool IsTcp => Text.StartsWith("tcp:", StringComparison.Ordinal);

    public EndPoint ToEndPoint()
    {
        if (!IsTcp)
        {
            return new UnixDomainSocketEndPoint(Text);
        }

        var address = Text[4..];
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        var port = int.Parse(address[(colon + 1)..], CultureInfo.InvariantCulture);
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    public Socket NewSocket() =>
        IsTcp
            ? new Socket(SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public override string ToString() => Text;
}
