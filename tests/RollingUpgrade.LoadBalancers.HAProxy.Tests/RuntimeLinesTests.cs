using System.Net;
using System.Net.Sockets;
using System.Text;
using RollingUpgrade.LoadBalancers.HAProxy.Runtime;

namespace RollingUpgrade.Tests;

/// <summary>
/// A runtime API reply read line by line: lines split across reads, a multi-byte character split across reads, a
/// last line without its newline, and an early stop.
/// </summary>
public sealed class RuntimeLinesTests
{
    /// <summary>Answers one connection with <paramref name="parts"/>, a pause between them, then closes it.</summary>
    private static (HAProxyEndpoint Endpoint, Task Served) Serve(params string[] parts) =>
        Serve(parts.Select(p => Encoding.UTF8.GetBytes(p)).ToArray());

    private static (HAProxyEndpoint Endpoint, Task Served) Serve(params byte[][] parts)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new HAProxyEndpoint($"tcp:127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        var served = Task.Run(async () =>
        {
            using (listener.Server)
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                _ = await stream.ReadAsync(new byte[256]);
                try
                {
                    foreach (var part in parts)
                    {
                        await stream.WriteAsync(part);
                        await stream.FlushAsync();
                        await Task.Delay(50);
                    }
                }
                catch (IOException) { } // the reader stopped early and closed
            }

            listener.Stop();
        });
        return (endpoint, served);
    }

    [Fact(Timeout = 30_000)]
    public async Task Lines_split_across_reads_arrive_whole_and_the_last_one_without_its_newline_too()
    {
        var accented = Encoding.UTF8.GetBytes("naïve é end\nlast"); // 'é' is split between two reads below
        var split = Array.IndexOf(accented, (byte)0xC3, 7) + 1;
        var (endpoint, served) = Serve(
            Encoding.UTF8.GetBytes("0x1: be=b srv=s1\n0x2: be="),
            Encoding.UTF8.GetBytes("b srv=s2\n"),
            accented[..split],
            accented[split..]
        );
        var client = new HAProxyRuntimeClient(endpoint, TimeSpan.FromSeconds(5));
        var lines = new List<string>();

        await client.ReadLinesAsync(
            "show sess",
            line =>
            {
                lines.Add(line);
                return true;
            },
            CancellationToken.None
        );
        await served;

        lines.ShouldBe(["0x1: be=b srv=s1", "0x2: be=b srv=s2", "naïve é end", "last"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Reading_stops_at_the_line_that_says_so()
    {
        var (endpoint, served) = Serve("a\nb\nc\n", "d\ne\n");
        var client = new HAProxyRuntimeClient(endpoint, TimeSpan.FromSeconds(5));
        var lines = new List<string>();

        await client.ReadLinesAsync(
            "show sess",
            line =>
            {
                lines.Add(line);
                return lines.Count < 2;
            },
            CancellationToken.None
        );
        await served;

        lines.ShouldBe(["a", "b"]);
    }
}
