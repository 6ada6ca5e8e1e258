using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// The local cluster the end-to-end tests and benchmarks upgrade: three ejabberd 23.01 nodes
/// clustered on 127.0.0.11-13 (users registered, release 24.0 laid out on each node for `ejnode install`),
/// a real sshd listening on those addresses, and HAProxy in front (tcp and http frontends).
/// Everything is started here and stopped by process id in <see cref="DisposeAsync"/>.
/// </summary>
public sealed class UpgradeHarness : IAsyncDisposable
{
    private UpgradeHarness(string folder, EjabberdCluster cluster, SshdServer sshd, HAProxyInstance haproxy)
    {
        Folder = folder;
        Cluster = cluster;
        Sshd = sshd;
        HAProxy = haproxy;
    }

    public string Folder { get; }

    public EjabberdCluster Cluster { get; }

    public SshdServer Sshd { get; }

    public HAProxyInstance HAProxy { get; }

    public IReadOnlyList<(string User, string Password)> Users => Cluster.Users.Select(u => (u, $"pw-{u}")).ToList();

    /// <param name="xmppBalance">HAProxy's balance algorithm for XMPP (leastconn unless given).</param>
    public static async Task<UpgradeHarness> StartAsync(
        int users = 30,
        string targetVersion = "24.0",
        string xmppBalance = "leastconn"
    )
    {
        var folder = Directory.CreateTempSubdirectory("ru-harness-").FullName;
        var cluster = new EjabberdCluster("ej", 11, 3, "harness-cookie");
        SshdServer? sshd = null;
        HAProxyInstance? haproxy = null;
        try
        {
            await cluster.StartAsync(users);
            cluster.PrepareRelease(targetVersion);

            sshd = new SshdServer(cluster.Address(1), moreAddresses: [cluster.Address(2), cluster.Address(3)]);
            haproxy = new HAProxyInstance(
                folder,
                "haproxy",
                Enumerable.Range(1, 3).Select(i => ($"ej{i}", cluster.Address(i))).ToList(),
                5222,
                5280,
                xmppBalance: xmppBalance
            );
            var harness = new UpgradeHarness(folder, cluster, sshd, haproxy);
            await harness.WaitAllUpAsync();
            return harness;
        }
        catch
        {
            haproxy?.Dispose();
            sshd?.Dispose();
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Writes deploy/examples/rolling-ejabberd-local.toml with this harness's paths, ports and socket.
    /// </summary>
    public string WritePlan(string exampleRoot, Func<string, string>? edit = null)
    {
        var text = File.ReadAllText(Path.Combine(exampleRoot, "deploy", "examples", "rolling-ejabberd-local.toml"));
        Directory.CreateDirectory(Path.Combine(Folder, "ssh"));
        File.Copy(Sshd.ClientKey("ed25519"), Path.Combine(Folder, "ssh", "id_ed25519"), overwrite: true);
        File.WriteAllText(Path.Combine(Folder, "known_hosts"), Sshd.KnownHostsLine + "\n");
        if (!Directory.Exists(Path.Combine(Folder, "ej")))
        {
            Directory.CreateSymbolicLink(Path.Combine(Folder, "ej"), Cluster.Folder);
        }

        text = text.Replace(
                "/tmp/rollingupgrade-harness/haproxy/admin.sock",
                HAProxy.SocketPath,
                StringComparison.Ordinal
            )
            .Replace("/tmp/rollingupgrade-harness", Folder, StringComparison.Ordinal)
            .Replace(
                "port = 2222",
                $"port = {Sshd.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                StringComparison.Ordinal
            );
        text = edit?.Invoke(text) ?? text;
        var path = Path.Combine(Folder, "plan.toml");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Waits until HAProxy's health checks see every node UP in both backends.</summary>
    public async Task WaitAllUpAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var stat = await ShowStatAsync();
            var servers = stat.Split('\n')
                .Where(l =>
                    l.StartsWith("be_", StringComparison.Ordinal) && !l.Contains(",BACKEND,", StringComparison.Ordinal)
                )
                .ToList();
            if (servers.Count == 6 && servers.All(l => l.Split(',')[17] == "UP"))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("HAProxy does not see every node UP:\n" + stat);
            }

            await Task.Delay(200);
        }
    }

    /// <summary>pxname,svname,scur,status for each server, from HAProxy's own view.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ServerStatusAsync(string backend)
    {
        var stat = await ShowStatAsync();
        return stat.Split('\n')
            .Where(l =>
                l.StartsWith(backend + ",", StringComparison.Ordinal)
                && !l.Contains(",BACKEND,", StringComparison.Ordinal)
            )
            .Select(l => l.Split(','))
            .ToDictionary(f => f[1], f => f[17]);
    }

    public Task<string> ShowStatAsync() => HAProxy.CommandAsync("show stat");

    public async ValueTask DisposeAsync()
    {
        HAProxy.Dispose();
        Sshd.Dispose();
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left behind in the temp folder.
        }
    }
}
