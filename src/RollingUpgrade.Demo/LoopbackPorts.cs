using System.Net;
using System.Net.Sockets;

namespace RollingUpgrade.Demo;

/// <summary>Free ports on loopback addresses; each demo or test node gets its own 127.0.0.x address.</summary>
public static class LoopbackPorts
{
    public static int Free(string address = "127.0.0.1")
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A port free on every one of the addresses.</summary>
    public static int FreeOnAll(params string[] addresses)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Free(addresses[0]);
            if (addresses.Skip(1).All(a => IsFree(a, port)))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no common free port");
    }

    public static bool IsFree(string address, int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Parse(address), port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task WaitUntilListeningAsync(string address, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(address), port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
