using System.Net.Sockets;
using System.Text;

namespace RollingUpgrade.Demo.Load;

/// <summary>
/// A minimal XMPP client over plain TCP: stream open, SASL PLAIN, bind, presence, the server's version (recorded with
/// the login, so a test sees which side of an upgrade each session landed on), then an XMPP
/// ping every second that must be answered within two seconds. Like a real client it keeps reading
/// between pings, so a server that ends the session is noticed at once; it records whether that was
/// a clean stream close or a bare TCP close, closes its side and reconnects with back-off.
/// </summary>
public sealed class XmppLoadClient(
    int id,
    string host,
    int port,
    string user,
    string password,
    string domain,
    Action<LoadEvent> record
)
{
    private const string StreamHeader =
        "<?xml version='1.0'?><stream:stream to='{0}' xmlns='jabber:client' "
        + "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            var loggedIn = await SessionAsync(stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                return;
            }

            backoff = loggedIn
                ? TimeSpan.FromMilliseconds(100)
                : TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
            try
            {
                await Task.Delay(backoff, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One connection's life; true when it got as far as a logged-in session.</summary>
    private async Task<bool> SessionAsync(CancellationToken stop)
    {
        using var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(5));
            await tcp.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
            record(new(DateTimeOffset.UtcNow, id, LoadOperations.Connect, true, string.Empty));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !stop.IsCancellationRequested)
        {
            record(new(DateTimeOffset.UtcNow, id, LoadOperations.Connect, false, e.Message));
            return false;
        }

        var stream = tcp.GetStream();
        var reader = new XmlChunkReader(stream);
        try
        {
            await SendAsync(
                    stream,
                    string.Format(System.Globalization.CultureInfo.InvariantCulture, StreamHeader, domain),
                    stop
                )
                .ConfigureAwait(false);
            await reader.ReadUntilAsync("</stream:features>", TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
            var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
            await SendAsync(
                    stream,
                    $"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>",
                    stop
                )
                .ConfigureAwait(false);
            var answer = await reader
                .ReadUntilAnyAsync(["<success", "<failure"], TimeSpan.FromSeconds(5), stop)
                .ConfigureAwait(false);
            if (!answer.Contains("<success", StringComparison.Ordinal))
            {
                record(new(DateTimeOffset.UtcNow, id, LoadOperations.Login, false, "SASL failure"));
                return false;
            }

            await SendAsync(
                    stream,
                    string.Format(System.Globalization.CultureInfo.InvariantCulture, StreamHeader, domain),
                    stop
                )
                .ConfigureAwait(false);
            await reader.ReadUntilAsync("</stream:features>", TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
            await SendAsync(
                    stream,
                    "<iq type='set' id='bind1'><bind "
                        + "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>load</resource></bind></iq>",
                    stop
                )
                .ConfigureAwait(false);
            await reader.ReadUntilAsync("id='bind1'", TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
            await SendAsync(stream, "<presence/>", stop).ConfigureAwait(false);
            var version = await ServerVersionAsync(stream, reader, stop).ConfigureAwait(false);
            record(new(DateTimeOffset.UtcNow, id, LoadOperations.Login, true, version));
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or ServerClosedException)
        {
            record(new(DateTimeOffset.UtcNow, id, LoadOperations.Login, false, e.Message));
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var pingId = $"p{++n}";
            try
            {
                await SendAsync(
                        stream,
                        $"<iq type='get' id='{pingId}' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>",
                        stop
                    )
                    .ConfigureAwait(false);
                await reader.ReadUntilAsync($"id='{pingId}'", TimeSpan.FromSeconds(2), stop).ConfigureAwait(false);
                record(new(DateTimeOffset.UtcNow, id, LoadOperations.Ping, true, string.Empty));
                await reader.ListenAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            }
            catch (ServerClosedException closed)
            {
                record(
                    new(
                        DateTimeOffset.UtcNow,
                        id,
                        LoadOperations.Disconnect,
                        true,
                        closed.Clean ? "stream-close" : "tcp-reset"
                    )
                );
                return true;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                record(
                    new(
                        DateTimeOffset.UtcNow,
                        id,
                        LoadOperations.Disconnect,
                        true,
                        reader.SawStreamEnd ? "stream-close" : "tcp-reset"
                    )
                );
                return true;
            }
            catch (TimeoutException)
            {
                record(new(DateTimeOffset.UtcNow, id, LoadOperations.Ping, false, "no answer within 2 s"));
                return true;
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        try
        {
            await SendAsync(stream, "</stream:stream>", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Closing anyway.
        }

        return true;
    }

    /// <summary>
    /// The version of the server this session landed on (XEP-0092, ejabberd's mod_version), as a client sees which
    /// side of an upgrade it is on; empty when the server does not say.
    /// </summary>
    private async Task<string> ServerVersionAsync(NetworkStream stream, XmlChunkReader reader, CancellationToken stop)
    {
        await SendAsync(stream, $"<iq type='get' id='ver1' to='{domain}'><query xmlns='jabber:iq:version'/></iq>", stop)
            .ConfigureAwait(false);
        try
        {
            var opening = await reader.ReadUntilAsync("id='ver1'", TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
            if (opening.Contains("type='error'", StringComparison.Ordinal))
            {
                return string.Empty;
            }

            var answer = await reader.ReadUntilAsync("</iq", TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
            var match = System.Text.RegularExpressions.Regex.Match(answer, "<version>([^<]*)</version>");
            return match.Success ? match.Groups[1].Value : string.Empty;
        }
        catch (TimeoutException)
        {
            // A server that does not answer is not a failed login; the version stays unknown.
            return string.Empty;
        }
    }

    private static Task SendAsync(NetworkStream stream, string text, CancellationToken stop) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(text), stop).AsTask();
}

/// <summary>The server closed the session; Clean when it ended the XML stream first.</summary>
internal sealed class ServerClosedException(bool clean)
    : Exception(clean ? "server closed the stream" : "server closed the connection")
{
    public bool Clean { get; } = clean;
}

/// <summary>Accumulates what the server sends and waits for a marker, noticing stream errors and ends.</summary>
internal sealed class XmlChunkReader(NetworkStream stream)
{
    private readonly StringBuilder _buffer = new();
    private readonly byte[] _chunk = new byte[8192];
    private Task<int>? _pending;

    public bool SawStreamEnd { get; private set; }

    public Task<string> ReadUntilAsync(string marker, TimeSpan timeout, CancellationToken stop) =>
        ReadUntilAnyAsync([marker], timeout, stop);

    /// <summary>
    /// Reads whatever arrives for <paramref name="duration"/>; a server close ends it with
    /// <see cref="ServerClosedException"/>.
    /// </summary>
    public async Task ListenAsync(TimeSpan duration, CancellationToken stop)
    {
        try
        {
            // No server sends this; the read simply runs until the time is up or the stream ends.
            await ReadUntilAnyAsync(["\u0000never"], duration, stop).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Quiet second: the normal case.
        }
    }

    public async Task<string> ReadUntilAnyAsync(string[] markers, TimeSpan timeout, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var text = _buffer.ToString();
            foreach (var marker in markers)
            {
                var at = text.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    var end = text.IndexOf('>', at + marker.Length);
                    var cut = end >= 0 ? end + 1 : text.Length;
                    _buffer.Remove(0, cut);
                    return text[..cut];
                }
            }

            if (
                text.Contains("</stream:stream>", StringComparison.Ordinal)
                || text.Contains("<stream:error", StringComparison.Ordinal)
            )
            {
                SawStreamEnd = true;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0.#}s for {markers[0]}");
            }

            _pending ??= stream.ReadAsync(_chunk, stop).AsTask();
            var finished = await Task.WhenAny(_pending, Task.Delay(left, stop)).ConfigureAwait(false);
            if (finished != _pending)
            {
                stop.ThrowIfCancellationRequested();
                continue;
            }

            var read = await _pending.ConfigureAwait(false);
            _pending = null;
            if (read == 0)
            {
                throw new ServerClosedException(
                    SawStreamEnd || _buffer.ToString().Contains("</stream:stream>", StringComparison.Ordinal)
                );
            }

            _buffer.Append(Encoding.UTF8.GetString(_chunk, 0, read));
        }
    }
}
