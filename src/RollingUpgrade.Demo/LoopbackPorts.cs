using System.Net;
using System.Net.Sockets;

namespace RollingUpgrade.Demo;

/// <summary>Free ports on loopback addresses; each demo or test node gets its own 127.0.0.x address.</summary>
public static class LoopbackPorts
{
    private static readonly (int Low, int High) Range = ListeningRange();
    private static int _next = Random.Shared.Next(Range.High - Range.Low);

    /// <summary>
    /// A port free on the address now. Taken below the kernel's ephemeral range, so that outgoing connections
    /// (clients under load, health checks) cannot take it between now and the moment a node binds it again
    /// after a restart; each process starts at a random place in that range.
    /// </summary>
    public static int Free(string address = "127.0.0.1")
    {
        var size = Range.High - Range.Low;
        for (var attempt = 0; attempt < size; attempt++)
        {
            var port = Range.Low + (int)((uint)Interlocked.Increment(ref _next) % (uint)size);
            if (IsFree(address, port))
            {
                return port;
            }
        }

        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (int Low, int High) ListeningRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(text[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or not readable: Linux's default range is assumed.
        }

        return ephemeralLow > 12000 ? (10000, ephemeralLow) : (ephemeralLow / 2, ephemeralLow);
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
