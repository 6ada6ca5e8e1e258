using System.Net;
using System.Net.Sockets;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Tests;

/// <summary>
/// The demo node counts sessions as an XMPP server does: a client that speaks, not a TCP connect. A balancer's health
/// check (connect, then close) was counted for the moment it lived, and a takeover check that read the serving nodes
/// at that moment expected one session more than came back.
/// </summary>
public sealed class DemoNodeSessionTests : IAsyncLifetime
{
    private const string Address = "127.0.0.37";

    private DemoNode _node = null!;
    private int _tcpPort;

    public async Task InitializeAsync()
    {
        _tcpPort = LoopbackPorts.Free(Address);
        _node = new DemoNode("n1", Address, LoopbackPorts.Free(Address), _tcpPort, "1.0");
        await _node.StartAsync();
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact(Timeout = 30_000)]
    public async Task A_connection_that_says_nothing_is_no_session_and_a_client_that_speaks_is_one_until_it_leaves()
    {
        // Health checks: connect, read the greeting or not, close.
        for (var i = 0; i < 20; i++)
        {
            using var check = new TcpClient();
            await check.ConnectAsync(IPAddress.Parse(Address), _tcpPort);
            var seen = false;
            var reader = new StreamReader(check.GetStream());
            if (i % 2 == 0)
            {
                (await reader.ReadLineAsync()).ShouldBe("hello from n1 1.0");
                seen = true;
            }

            _node.Sessions.ShouldBe(0, $"check {i} (greeting read: {seen})");
        }

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Parse(Address), _tcpPort);
        var stream = client.GetStream();
        var lines = new StreamReader(stream);
        (await lines.ReadLineAsync()).ShouldBe("hello from n1 1.0");
        _node.Sessions.ShouldBe(0);
        await stream.WriteAsync("first line\n"u8.ToArray());
        (await lines.ReadLineAsync()).ShouldBe("first line", "the first line is echoed as every other");
        _node.Sessions.ShouldBe(1);
        await stream.WriteAsync("second\n"u8.ToArray());
        (await lines.ReadLineAsync()).ShouldBe("second");

        client.Close();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_node.Sessions != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        _node.Sessions.ShouldBe(0);
    }
}
