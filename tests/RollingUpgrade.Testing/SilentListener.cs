using System.Net;
using System.Net.Sockets;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// A listening port whose accept queue is full and never accepted from: the kernel drops new connection attempts, so
/// a client's connect neither succeeds nor is refused, it waits (a busy host, a firewall that drops). <see cref="Drain"/>
/// accepts what is queued, and the port answers again.
/// </summary>
public sealed class SilentListener : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private SilentListener(Socket listener, int port)
    {
        _listener = listener;
        Port = port;
    }

    public int Port { get; }

    public static SilentListener Start(string address)
    {
        var port = LoopbackPorts.Free(address);
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse(address), port));
        listener.Listen(0);
        var silent = new SilentListener(listener, port);
        try
        {
            // With a backlog of 0 one connection fills the queue; Linux then drops new SYNs (tcp_abort_on_overflow 0).
            var filler = new Socket(SocketType.Stream, ProtocolType.Tcp);
            silent._fillers.Add(filler);
            filler.Connect(address, port);
        }
        catch
        {
            silent.Dispose();
            throw;
        }

        return silent;
    }

    /// <summary>Accepts everything queued and keeps accepting: connection attempts succeed again.</summary>
    public void Drain() =>
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    (await _listener.AcceptAsync()).Dispose();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Disposed.
            }
        });

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
