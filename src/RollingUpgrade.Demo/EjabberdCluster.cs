using System.Diagnostics;
using System.Globalization;

namespace RollingUpgrade.Demo;

/// <summary>
/// A real ejabberd 23.01 (Debian) cluster on loopback, without the ejabberdctl wrapper, epmd or su:
/// node i runs as <c>PREFIXi@127.0.0.N</c> with c2s on N:5222, HTTP on N:5280 and Erlang
/// distribution on N:4370. Generated scripts: <c>ejctl NODE cmd...</c> (a hidden control node) and
/// <c>ejnode start|stop INDEX</c> and <c>ejnode install INDEX VERSION</c>. Each node runs an
/// installed release: the application's metadata in <c>nINDEX/ebin/ejabberd.app</c> (first in the
/// code path, so its <c>vsn</c> is the version the node reports through ejabberdctl and its HTTP
/// API alike) and its config. <see cref="PrepareRelease"/> lays out another version under
/// <c>nINDEX/releases/VERSION</c>, and installing it switches both, which is the real change an
/// upgrade makes and the orchestrator reads back. Every beam is stopped by the process id in its pid file.
/// </summary>
public sealed class EjabberdCluster : IAsyncDisposable
{
    private const string ErlLibs = "/usr/lib/x86_64-linux-gnu";

    private static readonly HttpClient Api = new();

    public EjabberdCluster(
        string prefix = "ej",
        int firstAddress = 11,
        int count = 3,
        string cookie = "rucookie",
        string version = "23.01"
    )
    {
        Prefix = prefix;
        FirstAddress = firstAddress;
        Count = count;
        Cookie = cookie;
        Folder = Directory.CreateTempSubdirectory($"ru-{prefix}-").FullName;
        CtlScript = Path.Combine(Folder, "ejctl");
        NodeScript = Path.Combine(Folder, "ejnode");
        File.WriteAllText(
            CtlScript,
            $"""
            #!/bin/sh
            # ejctl NODE command...: a hidden Erlang node runs one ejabberdctl command against NODE.
            # It runs in the cluster's folder, so a crash dump never lands where the caller stands.
            node=$1; shift
            cd {Folder}
            ERL_LIBS={ErlLibs} exec /usr/bin/erl -name ctl$$@127.0.0.1 -setcookie {cookie} -hidden -noinput \
              -erl_epmd_port 4370 -start_epmd false -dist_listen false -s ejabberd_ctl -extra "$node" "$@"

            """
        );
        File.WriteAllText(
            NodeScript,
            $$"""
            #!/bin/sh
            # ejnode start|stop INDEX: start node INDEX detached (pid in nINDEX/erl.pid) or stop it gracefully.
            # ejnode install INDEX VERSION: install the release prepared in nINDEX/releases/VERSION (node stopped).
            set -e
            dir={{Folder}}/n$2
            case $1 in
              install)
                release=$dir/releases/$3
                if [ ! -f "$release/ejabberd.app" ]; then echo "ejnode: no release $3 in $dir/releases" >&2; exit 1; fi
                cp "$release/ejabberd.app" $dir/ebin/ejabberd.app
                cp "$release/ejabberd.yml" $dir/ejabberd.yml
                ;;
              start)
                addr=$(cat $dir/address)
                cd $dir/spool
                EJABBERD_CONFIG_PATH=$dir/ejabberd.yml EJABBERD_LOG_PATH=$dir/log/ejabberd.log \
                ERL_LIBS={{ErlLibs}} ERL_CRASH_DUMP=$dir/log/erl_crash.dump ERL_MAX_PORTS=32000 \
                setsid /usr/bin/erl -name $(cat $dir/node) -setcookie {{cookie}} +K true -env ERL_CRASH_DUMP_BYTES 0 \
                  -kernel inet_dist_use_interface "{$(echo $addr | tr . ,)}" -erl_epmd_port 4370 -start_epmd false \
                  -pa $dir/ebin -mnesia dir "\"$dir/spool\"" -s ejabberd -noinput \
                  </dev/null >>$dir/log/stdout.log 2>&1 &
                echo $! > $dir/erl.pid
                ;;
              stop)
                pid=$(cat $dir/erl.pid)
                kill -TERM $pid 2>/dev/null || true
                while [ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ]; do
                  sleep 0.05
                done
                ;;
            esac

            """
        );
        Chmod(CtlScript);
        Chmod(NodeScript);
        for (var i = 1; i <= count; i++)
        {
            var dir = NodeFolder(i);
            Directory.CreateDirectory(Path.Combine(dir, "spool"));
            Directory.CreateDirectory(Path.Combine(dir, "log"));
            Directory.CreateDirectory(Path.Combine(dir, "ebin"));
            File.WriteAllText(Path.Combine(dir, "address"), Address(i));
            File.WriteAllText(Path.Combine(dir, "node"), ErlangNode(i));
            File.WriteAllText(Path.Combine(dir, "ebin", "ejabberd.app"), ApplicationFile(version));
            File.WriteAllText(ConfigPath(i), Config(Address(i), version));
        }
    }

    /// <summary>
    /// Lays out release <paramref name="version"/> on every node (nINDEX/releases/VERSION), for <c>ejnode install</c>.
    /// </summary>
    public void PrepareRelease(string version)
    {
        for (var i = 1; i <= Count; i++)
        {
            var release = Path.Combine(NodeFolder(i), "releases", version);
            Directory.CreateDirectory(release);
            File.WriteAllText(Path.Combine(release, "ejabberd.app"), ApplicationFile(version));
            File.WriteAllText(Path.Combine(release, "ejabberd.yml"), Config(Address(i), version));
        }
    }

    /// <summary>Debian's ejabberd.app with <paramref name="version"/> as the application's vsn.</summary>
    private static string ApplicationFile(string version)
    {
        var installed = File.ReadAllText(Path.Combine(ErlLibs, "ejabberd-23.01", "ebin", "ejabberd.app"));
        var vsn = System.Text.RegularExpressions.Regex.Match(installed, @"\{\s*vsn\s*,\s*""[^""]*""\s*\}");
        if (!vsn.Success)
        {
            throw new InvalidOperationException($"no {{vsn, ...}} in {ErlLibs}/ejabberd-23.01/ebin/ejabberd.app");
        }

        return string.Concat(
            installed.AsSpan(0, vsn.Index),
            $"{{vsn, \"{version}\"}}",
            installed.AsSpan(vsn.Index + vsn.Length)
        );
    }

    public string Prefix { get; }

    public int FirstAddress { get; }

    public int Count { get; }

    public string Cookie { get; }

    public string Folder { get; }

    public string CtlScript { get; }

    public string NodeScript { get; }

    public string Address(int i) => $"127.0.0.{FirstAddress + i - 1}";

    public string ErlangNode(int i) => $"{Prefix}{i}@{Address(i)}";

    public string NodeFolder(int i) => Path.Combine(Folder, $"n{i}");

    public string ConfigPath(int i) => Path.Combine(NodeFolder(i), "ejabberd.yml");

    public IReadOnlyList<string> Users { get; private set; } = [];

    /// <summary>
    /// Starts every node, joins nodes 2..n to node 1, and registers <paramref name="users"/> users (user1..userN,
    /// password "pw-userN").
    /// </summary>
    public async Task StartAsync(int users = 0)
    {
        for (var i = 1; i <= Count; i++)
        {
            await StartNodeAsync(i);
        }

        for (var i = 2; i <= Count; i++)
        {
            var join = await CtlAsync(i, "join_cluster", ErlangNode(1));
            if (join.ExitCode != 0)
            {
                throw new InvalidOperationException($"join of node {i} failed: {join.Output}");
            }

            await WaitStartedAsync(i);
        }

        var names = new List<string>();
        for (var u = 1; u <= users; u++)
        {
            await RegisterAsync($"user{u}", $"pw-user{u}");
            names.Add($"user{u}");
        }

        Users = names;
    }

    /// <summary>
    /// Registers an account on node 1 through mod_http_api (one request; `ejabberdctl register` starts an Erlang VM
    /// per account, a second or more each), or through ejabberdctl when the API does not take it.
    /// </summary>
    private async Task RegisterAsync(string user, string password)
    {
        try
        {
            using var body = new StringContent(
                System.Text.Json.JsonSerializer.Serialize(
                    new
                    {
                        user,
                        host = "localhost",
                        password,
                    }
                ),
                System.Text.Encoding.UTF8,
                "application/json"
            );
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await Api.PostAsync(
                new Uri($"http://{Address(1)}:5280/api/register"),
                body,
                timeout.Token
            );
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Through ejabberdctl then.
        }

        var result = await CtlAsync(1, "register", user, "localhost", password);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"register {user}: {result.Output}");
        }
    }

    public async Task StartNodeAsync(int i)
    {
        await RunAsync(NodeScript, "start", i.ToString(CultureInfo.InvariantCulture));
        await WaitStartedAsync(i);
    }

    public async Task StopNodeAsync(int i) =>
        await RunAsync(NodeScript, "stop", i.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// <c>ejnode install INDEX VERSION</c>: switches node <paramref name="i"/> (stopped) to a release laid out by
    /// <see cref="PrepareRelease"/>.
    /// </summary>
    public async Task InstallAsync(int i, string version)
    {
        var result = await RunAsync(NodeScript, "install", i.ToString(CultureInfo.InvariantCulture), version);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ejnode install {i} {version}: {result.Output}");
        }
    }

    public async Task WaitStartedAsync(int i)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await CtlAsync(i, "status")).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"ejabberd node {i} did not start:\n{Tail(Path.Combine(NodeFolder(i), "log", "stdout.log"))}\n"
                        + $"{Tail(Path.Combine(NodeFolder(i), "log", "ejabberd.log"))}"
                );
            }

            await Task.Delay(200);
        }
    }

    public Task<(int ExitCode, string Output)> CtlAsync(int i, params string[] args) =>
        RunAsync(CtlScript, [ErlangNode(i), .. args]);

    public int? Pid(int i)
    {
        var file = Path.Combine(NodeFolder(i), "erl.pid");
        return
            File.Exists(file)
            && int.TryParse(
                File.ReadAllText(file).Trim(),
                NumberStyles.Integer,
                CultureInfo.InvariantCulture,
                out var pid
            )
            ? pid
            : null;
    }

    public bool IsAlive(int i) =>
        Pid(i) is { } pid
        && File.Exists($"/proc/{pid}/stat")
        && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);

    /// <summary>
    /// The cluster's nodes as plan tables (<c>[[nodes]]</c> or <c>[[strategy.green_nodes]]</c>), each
    /// named PREFIXi in <paramref name="loadBalancer"/>, with vars index, dir, ctl and ejnode.
    /// </summary>
    public string PlanNodes(string table, string loadBalancer) =>
        string.Concat(
            Enumerable
                .Range(1, Count)
                .Select(i =>
                    $$"""
                        [[{{table}}]]
                        name = "{{Prefix}}{{i}}"
                        host = "{{Address(i)}}"
                        erlang_node = "{{ErlangNode(i)}}"
                        lb_ids = { {{loadBalancer}} = "{{Prefix}}{{i}}" }
                        vars = { index = "{{i}}", dir = "{{NodeFolder(
                            i
                        )}}", ctl = "{{CtlScript}}", ejnode = "{{NodeScript}}" }

                        """
                )
        );

    /// <summary>
    /// The plan's [product] table for nodes written by <see cref="PlanNodes"/> (their vars name the scripts and
    /// folders).
    /// </summary>
    public const string ProductTable = """
        [product]
        kind = "ejabberd"
        ctl = ["{var.ctl}", "{erlang_node}"]
        start = ["{var.ejnode}", "start", "{var.index}"]
        stop = ["{var.ejnode}", "stop", "{var.index}"]
        api_url = "http://{host}:5280/api"
        dist_address = "{host}:4370"
        config_path = "{var.dir}/ejabberd.yml"
        start_timeout = "60s"
        """;

    /// <summary>
    /// The config of release <paramref name="version"/> (the version itself comes from the application's metadata).
    /// </summary>
    public static string Config(string address, string version) =>
        $$"""
            # ejabberd {{version}} on {{address}}
            loglevel: warning
            hosts: [localhost]
            certfiles: ["/etc/ejabberd/ejabberd.pem"]
            listen:
              - port: 5222
                ip: "{{address}}"
                module: ejabberd_c2s
                backlog: 1000
                max_stanza_size: 262144
                starttls_required: false
              - port: 5280
                ip: "{{address}}"
                module: ejabberd_http
                backlog: 1000
                request_handlers:
                  /api: mod_http_api
                  /bosh: mod_bosh
                  /ws: ejabberd_http_ws
            auth_method: internal
            acl:
              local: {user_regexp: ""}
              loopback: {ip: [127.0.0.0/8]}
            access_rules:
              local: {allow: local}
              c2s: {allow: all}
            api_permissions:
              "loopback http api":
                who: {ip: 127.0.0.0/8}
                what: "*"
              "console commands":
                from: [ejabberd_ctl]
                who: all
                what: "*"
            shaper_rules:
              max_user_sessions: 10
            modules:
              mod_admin_extra: {}
              mod_bosh: {}
              mod_disco: {}
              mod_http_api: {}
              mod_ping: {}
              mod_roster: {}
              mod_stream_mgmt: {}
              mod_version: {}

            """;

    public async ValueTask DisposeAsync()
    {
        for (var i = 1; i <= Count; i++)
        {
            if (Pid(i) is not { } pid)
            {
                continue;
            }

            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                await process.WaitForExitAsync(new CancellationTokenSource(10_000).Token);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or OperationCanceledException)
            {
                // Already gone.
            }
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A late log write; the temp folder is left behind.
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output) + (await error));
    }

    private static void Chmod(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(
                path,
                UnixFileMode.UserRead
                    | UnixFileMode.UserWrite
                    | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead
                    | UnixFileMode.GroupExecute
            );
        }
    }

    private static string Tail(string path) =>
        File.Exists(path) ? string.Join("\n", File.ReadAllLines(path).TakeLast(15)) : $"(no {path})";
}
