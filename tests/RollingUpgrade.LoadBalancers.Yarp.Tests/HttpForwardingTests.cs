using System.Net;
using System.Net.Sockets;
using System.Text;
using RollingUpgrade.Demo;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Tests;

/// <summary>
/// What the HTTP listener sends on: the listener names the cluster whatever Host the client asked for, and the node
/// sees its own address as Host with the client's in <c>X-Forwarded-*</c>. The node here is a raw socket that
/// answers each request with the request head it received, so nothing between hides a header.
/// </summary>
public sealed class HttpForwardingTests : IAsyncLifetime
{
    private const string NodeAddress = "127.0.0.35";

    private readonly TcpListener _node = new(IPAddress.Parse(NodeAddress), 0);
    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;
    private EmbeddedProxy _proxy = null!;
    private int _listenPort;

    public async Task InitializeAsync()
    {
        _node.Start();
        _serving = ServeAsync();
        var nodePort = ((IPEndPoint)_node.LocalEndpoint).Port;
        _listenPort = LoopbackPorts.Free();
        var options = new ProxyOptions(
            new AdminOptions(new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free()), null),
            [
                new ClusterOptions(
                    "xmpp",
                    [new DestinationOptions("n1", NodeAddress, nodePort, null, 100)],
                    TimeSpan.FromSeconds(1)
                ),
            ],
            [new ListenerOptions(ListenerKind.Http, new IPEndPoint(IPAddress.Loopback, _listenPort), "xmpp")]
        );
        _proxy = EmbeddedProxy.Build(options);
        await _proxy.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _stop.CancelAsync();
        _node.Stop();
        await _serving;
        _stop.Dispose();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_request_for_any_host_goes_to_the_listeners_cluster_with_the_clients_address_forwarded()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_listenPort}/http-bind?x=1");
        request.Headers.Host = "chat.example.org";
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=203.0.113.9");

        using var response = await http.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var head = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        head[0].ShouldBe("GET /http-bind?x=1 HTTP/1.1");
        var headers = head.Skip(1)
            .Where(l => l.Contains(':', StringComparison.Ordinal))
            .Select(l => l.Split(':', 2))
            .ToLookup(p => p[0].ToLowerInvariant(), p => p[1].Trim());
        headers["host"].ShouldBe([$"{NodeAddress}:{((IPEndPoint)_node.LocalEndpoint).Port}"]);
        headers["x-forwarded-for"].ShouldBe(["127.0.0.1"]);
        headers["x-forwarded-host"].ShouldBe(["chat.example.org"]);
        headers["x-forwarded-proto"].ShouldBe(["http"]);
        headers["forwarded"].ShouldBeEmpty();
    }

    [Fact]
    public void A_destination_on_an_ipv6_address_is_reached_in_brackets()
    {
        new DestinationRuntime("xmpp", new DestinationOptions("n1", "::1", 5280, null, 100)).HttpPrefix.ShouldBe(
            "http://[::1]:5280/"
        );
        new DestinationRuntime(
            "xmpp",
            new DestinationOptions("n2", "node2.internal", 5280, null, 1)
        ).HttpPrefix.ShouldBe("http://node2.internal:5280/");
        new DestinationRuntime(
            "xmpp",
            new DestinationOptions("n3", "127.0.0.13", null, 5222, 1)
        ).HttpPrefix.ShouldBeNull();
    }

    /// <summary>Answers each request on a connection with its head (request line and headers) as the body.</summary>
    private async Task ServeAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _node.AcceptTcpClientAsync(_stop.Token);
                connections.Add(EchoHeadsAsync(client));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }

        await Task.WhenAll(connections);
    }

    private async Task EchoHeadsAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            try
            {
                while (true)
                {
                    var head = new StringBuilder();
                    string? line;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(_stop.Token)))
                    {
                        head.Append(line).Append("\r\n");
                    }

                    if (head.Length == 0)
                    {
                        return;
                    }

                    var body = Encoding.ASCII.GetBytes(head.ToString());
                    await stream.WriteAsync(
                        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"),
                        _stop.Token
                    );
                    await stream.WriteAsync(body, _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException) { }
        }
    }
}
