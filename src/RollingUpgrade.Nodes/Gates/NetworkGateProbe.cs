using System.Net.Sockets;
using System.Text;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Gates;

/// <summary>Gates that talk to the node over the network: http, tcp, and an XMPP login.</summary>
public sealed class NetworkGateProbe : IGateProbe, IDisposable
{
    private readonly HttpClient _http = new(
        new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(10) }
    );

    public async Task<GateOutcome> CheckAsync(GateSpec gate, NodeSpec node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(node);
        var target = (gate.Target ?? string.Empty).Replace("{host}", node.Host, StringComparison.Ordinal);
        try
        {
            return gate.Kind switch
            {
                GateKinds.Http => await HttpAsync(gate, target, cancellationToken).ConfigureAwait(false),
                GateKinds.Tcp => await TcpAsync(target, cancellationToken).ConfigureAwait(false),
                GateKinds.XmppLogin => await XmppLoginProbe
                    .LoginAsync(
                        target,
                        gate.User!,
                        Environment.GetEnvironmentVariable(gate.PasswordEnv!) ?? string.Empty,
                        gate.Domain!,
                        cancellationToken
                    )
                    .ConfigureAwait(false),
                _ => new GateOutcome(false, $"gate kind \"{gate.Kind}\" is not a network gate"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or TimeoutException)
        {
            return new GateOutcome(false, e.Message);
        }
    }

    public Task<IReadOnlyList<double>> QueryAsync(GateSpec gate, CancellationToken cancellationToken) =>
        PrometheusQuery.RunAsync(_http, gate, cancellationToken);

    private async Task<GateOutcome> HttpAsync(GateSpec gate, string url, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(url), cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode != gate.ExpectStatus)
        {
            return new GateOutcome(
                false,
                $"GET {url} answered {(int)response.StatusCode}, expected {gate.ExpectStatus}"
            );
        }

        return gate.ExpectBody is { } expected && !body.Contains(expected, StringComparison.Ordinal)
            ? new GateOutcome(false, $"GET {url} answered without '{expected}'")
            : new GateOutcome(true, $"GET {url}: {(int)response.StatusCode}");
    }

    private static async Task<GateOutcome> TcpAsync(string address, CancellationToken cancellationToken)
    {
        var (host, port) = XmppLoginProbe.Split(address);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        return new GateOutcome(true, $"connected to {address}");
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// An XMPP login as a client would do it: stream, SASL PLAIN, resource bind (no TLS; for loopback and trusted
/// networks).
/// </summary>
internal static class XmppLoginProbe
{
    public static (string Host, int Port) Split(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var colon = address.LastIndexOf(':');
        return (
            address[..colon].Trim('[', ']'),
            int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)
        );
    }

    public static async Task<GateOutcome> LoginAsync(
        string address,
        string user,
        string password,
        string domain,
        CancellationToken cancellationToken
    )
    {
        var (host, port) = Split(address);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        var header =
            $"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
            + $"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
        var seen = new StringBuilder();
        async Task SendAsync(string text) =>
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        async Task<string> UntilAsync(params string[] markers)
        {
            var buffer = new byte[4096];
            while (!markers.Any(m => seen.ToString().Contains(m, StringComparison.Ordinal)))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{address} closed the stream: {Shorten(seen.ToString())}");
                }

                seen.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            var text = seen.ToString();
            seen.Clear();
            return text;
        }

        await SendAsync(header).ConfigureAwait(false);
        await UntilAsync("</stream:features>").ConfigureAwait(false);
        await SendAsync(
                $"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                    + $"{Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"))}</auth>"
            )
            .ConfigureAwait(false);
        var auth = await UntilAsync("<success", "<failure").ConfigureAwait(false);
        if (!auth.Contains("<success", StringComparison.Ordinal))
        {
            return new GateOutcome(false, $"login of {user}@{domain} at {address} refused");
        }

        await SendAsync(header).ConfigureAwait(false);
        await UntilAsync("</stream:features>").ConfigureAwait(false);
        await SendAsync(
                "<iq type='set' id='gate-bind'><bind "
                    + "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>gate</resource></bind></iq>"
            )
            .ConfigureAwait(false);
        var bound = await UntilAsync("id='gate-bind'", "id=\"gate-bind\"").ConfigureAwait(false);
        await SendAsync("</stream:stream>").ConfigureAwait(false);
        return
            bound.Contains("type='result'", StringComparison.Ordinal)
            || bound.Contains("type=\"result\"", StringComparison.Ordinal)
            ? new GateOutcome(true, $"{user}@{domain} logged in and bound at {address}")
            : new GateOutcome(false, $"bind refused at {address}");
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";
}
