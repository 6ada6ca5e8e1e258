using System.Net.Sockets;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>What a connection to a node's Erlang distribution port found.</summary>
internal enum DistributionState
{
    /// <summary>Something accepted the connection: the node's VM is up (or another program holds the port).</summary>
    Listening,

    /// <summary>The host refused it: no VM listens there, so the node is down.</summary>
    Refused,

    /// <summary>No answer either way (timed out, unreachable, name not resolved): the probe cannot tell.</summary>
    Unknown,
}

/// <summary>
/// Connects to a node's Erlang distribution listener (<c>product.dist_address</c>, such as
/// "{host}:4370" for nodes whose distribution port is fixed) and closes again before any handshake.
/// A refused connection settles in about a millisecond that the node's VM is down, which otherwise
/// takes a control-command VM (0.3 s or more); anything else leaves the question to the control command.
/// </summary>
internal sealed class DistributionProbe(Plan plan, ICommandValues? values = null)
{
    private readonly ICommandValues _values = values ?? CommandValues.BeforeRun(plan);

    /// <summary>How long one connect attempt may take by default.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    /// <summary>host:port for <paramref name="node"/>, its placeholders filled in.</summary>
    public string Address(NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return CommandTemplate.RenderText(plan.Product.DistAddress!, _values.For(node));
    }

    public async Task<DistributionState> ProbeAsync(
        NodeSpec node,
        CancellationToken cancellationToken,
        TimeSpan? connectTimeout = null
    )
    {
        var address = Address(node);
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        var port = int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            LingerState = new LingerOption(true, 0),
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // A connect attempt on loopback or a LAN, timed by the socket's wall clock, not the run's.
        timeout.CancelAfter(connectTimeout ?? ConnectTimeout);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            return DistributionState.Listening;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return DistributionState.Refused;
        }
        catch (SocketException)
        {
            return DistributionState.Unknown;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DistributionState.Unknown;
        }
    }
}
