using System.Net.Sockets;
using System.Text;

namespace RollingUpgrade.Tests;

/// <summary>A long-lived TCP client through HAProxy that knows which backend greeted it.</summary>
public sealed class LiveClient : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream? _stream;

    public string Server { get; private set; } = string.Empty;

    public static async Task<LiveClient> ConnectAsync(int port)
    {
        var client = new LiveClient();
        await client._client.ConnectAsync("127.0.0.1", port);
        client._stream = client._client.GetStream();
        var line = await client.ReadLineAsync(TimeSpan.FromSeconds(5));
        client.Server = line?.Replace("hello-from-", string.Empty, StringComparison.Ordinal) ?? string.Empty;
        return client;
    }

    public async Task<string?> EchoAsync(string text)
    {
        await _stream!.WriteAsync(Encoding.ASCII.GetBytes(text + "\n"));
        return await ReadLineAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>True once the server side closed the connection.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            var buffer = new byte[64];
            return await _stream!.ReadAsync(buffer, timeout.Token) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await _stream!.ReadAsync(one, cts.Token) == 1)
        {
            if (one[0] == '\n')
            {
                return Encoding.ASCII.GetString(bytes.ToArray());
            }

            bytes.Add(one[0]);
        }

        return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
    }

    public void Dispose() => _client.Dispose();
}
