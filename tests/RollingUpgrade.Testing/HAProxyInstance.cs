using System.Net.Sockets;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>A real HAProxy 2.6 started as a child process with a generated config on loopback.</summary>
public sealed class HAProxyInstance : IDisposable
{
    private readonly ChildProcess _process;

    public HAProxyInstance(
        string folder,
        string name,
        BackendServers backends,
        IReadOnlyList<string> nodes,
        string level = "admin"
    )
        : this(
            folder,
            name,
            nodes.Select((n, i) => (n, $"127.0.0.{11 + i}")).ToList(),
            backends.TcpPort,
            backends.HttpPort,
            level,
            xmppChecks: false
        ) { }

    /// <summary>
    /// HAProxy in front of real nodes: tcp on <paramref name="tcpPort"/>, http on <paramref name="httpPort"/> of each
    /// address. The XMPP backend balances by <paramref name="xmppBalance"/> (leastconn with XMPP checks, else
    /// roundrobin, unless given).
    /// </summary>
    public HAProxyInstance(
        string folder,
        string name,
        IReadOnlyList<(string Server, string Address)> servers,
        int tcpPort,
        int httpPort,
        string level = "admin",
        bool xmppChecks = true,
        IReadOnlyDictionary<string, int>? weights = null,
        IReadOnlyDictionary<string, string>? httpNames = null,
        string? xmppBalance = null
    )
    {
        Folder = Directory.CreateDirectory(Path.Combine(folder, name)).FullName;
        SocketPath = Path.Combine(Folder, "admin.sock");
        StatsPort = LoopbackPorts.Free();
        TcpFrontendPort = LoopbackPorts.Free();
        HttpFrontendPort = LoopbackPorts.Free();
        string Lines(int port, IReadOnlyDictionary<string, string>? names = null) =>
            string.Join(
                "\n",
                servers.Select(s =>
                    $"    server {names?.GetValueOrDefault(s.Server) ?? s.Server} {s.Address}:{port} check inter 500ms "
                    + "fall 2 rise 2"
                    + $"{(weights?.TryGetValue(s.Server, out var w) == true ? $" weight {w}" : string.Empty)}"
                )
            );
        var tcpCheck = xmppChecks
            ? "    option tcp-check\n    tcp-check connect\n    tcp-check send \"<?xml version='1.0'?><stream:stream "
                + "to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                + "version='1.0'>\"\n    tcp-check expect string stream:features"
            : string.Empty;
        var httpCheck = xmppChecks
            ? "    option httpchk\n    http-check send meth GET uri /api/status ver HTTP/1.1 hdr Host localhost\n    "
                + "http-check expect status 200"
            : "    option httpchk\n    http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost";
        var config = $"""
            global
                stats socket {SocketPath} mode 600 level {level}
                stats socket ipv4@127.0.0.1:{StatsPort} level {level}
                stats timeout 2m

            defaults
                timeout connect 2s
                timeout client 1h
                timeout server 1h

            frontend fe_xmpp
                mode tcp
                bind 127.0.0.1:{TcpFrontendPort}
                default_backend be_xmpp

            backend be_xmpp
                mode tcp
                balance {xmppBalance ?? (xmppChecks ? "leastconn" : "roundrobin")}
            {tcpCheck}
            {Lines(tcpPort)}

            frontend fe_http
                mode http
                bind 127.0.0.1:{HttpFrontendPort}
                default_backend be_http

            backend be_http
                mode http
                balance roundrobin
                retries 3
                option redispatch
            {httpCheck}
            {Lines(httpPort, httpNames)}
            """;
        ConfigPath = Path.Combine(Folder, "haproxy.cfg");
        File.WriteAllText(ConfigPath, config + "\n");
        _process = ChildProcess.Start(Binary, ["-db", "-f", ConfigPath]);
        WaitForSocket();
    }

    public static string Binary => File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy";

    public string Folder { get; }

    public string ConfigPath { get; }

    public string SocketPath { get; }

    public int StatsPort { get; }

    public int TcpFrontendPort { get; }

    public int HttpFrontendPort { get; }

    public int ProcessId => _process.Id;

    public string Log => _process.Output;

    private void WaitForSocket()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited at start:\n{_process.Output}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>One runtime API command on the admin socket, as an operator's socat would send it.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(command + "\n"));
        var text = new System.Text.StringBuilder();
        var buffer = new byte[65536];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    public void Dispose() => _process.Dispose();
}
