using System.Diagnostics;
using System.Globalization;

namespace RollingUpgrade.Demo;

/// <summary>
/// Demo nodes on disk: one folder per node (name, address, ports, version) and the <c>node.sh</c>
/// script whose <c>start</c>, <c>stop</c> and <c>status</c> a plan runs. Each node is a process of its own,
/// started through <paramref name="launcher"/> (the host program's <c>demo-node</c> command) and stopped by
/// the process id it recorded.
/// </summary>
public sealed class DemoNodes
{
    private readonly Dictionary<string, string> _addresses;

    public DemoNodes(
        string folder,
        IReadOnlyList<(string Name, string Address)> nodes,
        IReadOnlyList<string> launcher,
        string version = "1.0"
    )
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(launcher);
        Folder = folder;
        _addresses = nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
        var addresses = nodes.Select(n => n.Address).ToArray();
        HttpPort = LoopbackPorts.FreeOnAll(addresses);
        TcpPort = LoopbackPorts.FreeOnAll(addresses);
        foreach (var (name, address) in nodes)
        {
            var dir = Directory.CreateDirectory(Dir(name)).FullName;
            File.WriteAllText(Path.Combine(dir, "name"), name);
            File.WriteAllText(Path.Combine(dir, "host"), address);
            File.WriteAllText(Path.Combine(dir, "http"), HttpPort.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "tcp"), TcpPort.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "version"), version);
        }

        Script = WriteScript(folder, launcher);
    }

    public string Folder { get; }

    /// <summary><c>node.sh start|stop|status DIR</c>.</summary>
    public string Script { get; }

    /// <summary>The HTTP (and WebSocket) port every node listens on at its own address.</summary>
    public int HttpPort { get; }

    /// <summary>The TCP line-protocol port every node listens on at its own address.</summary>
    public int TcpPort { get; }

    public IReadOnlyCollection<string> Names => _addresses.Keys;

    public string Address(string name) => _addresses[name];

    public string Dir(string name) => Path.Combine(Folder, name);

    /// <summary>Serving: its process runs and has written its state file.</summary>
    public bool IsUp(string name) => File.Exists(Path.Combine(Dir(name), "state"));

    /// <summary>The version the node's process serves, or null when it is stopped.</summary>
    public string? RunningVersion(string name) =>
        IsUp(name) ? File.ReadAllText(Path.Combine(Dir(name), "running-version")).Trim() : null;

    public Task StartAsync(string name) => RunAsync("start", name);

    public Task StopAsync(string name) => RunAsync("stop", name);

    /// <summary>
    /// The <c>[access]</c> and <c>[product]</c> sections of a plan for these nodes: local commands, the node
    /// script for status, stop and start, the running version and session count from the node's folder.
    /// </summary>
    public string PlanSections() =>
        $$"""
            [access]
            kind = "local"
            command_timeout = "30s"

            [product]
            kind = "generic"
            start_timeout = "30s"
            [product.commands]
            status = ["{{Script}}", "status", "{var.dir}"]
            version = { run = ["cat", "{var.dir}/running-version"], parse = "regex", pattern = '^(\S+)' }
            sessions = ["cat", "{var.dir}/sessions"]
            stop = ["{{Script}}", "stop", "{var.dir}"]
            start = ["{{Script}}", "start", "{var.dir}"]

            """;

    private async Task RunAsync(string verb, string name)
    {
        using var process = Process.Start(
            new ProcessStartInfo(Script)
            {
                ArgumentList = { verb, Dir(name) },
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }
        )!;
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    private static string WriteScript(string folder, IReadOnlyList<string> launcher)
    {
        var launch = string.Join(' ', launcher.Select(part => $"\"{part}\""));
        var path = Path.Combine(folder, "node.sh");
        File.WriteAllText(
            path,
            $$"""
            #!/bin/sh
            # node.sh start|stop|status DIR: one demo node, stopped by the process id in DIR/pid.
            dir=$2
            gone() { [ ! -e /proc/$1 ] || [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ]; }
            case $1 in
              start)
                # One start at a time (an interrupted run's start may still be going when a resume starts again).
                exec 9>"$dir/start.lock"; flock 9
                if [ -f "$dir/pid" ] && ! gone "$(cat "$dir/pid")"; then
                  # Serving or starting: nothing to do. Still shutting down (a stop that was interrupted, or one
                  # whose node deleted its state file before it exited): wait for it to go, as stop does.
                  [ -f "$dir/stopping" ] || exit 0
                  pid=$(cat "$dir/pid")
                  n=0; while ! gone "$pid" && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
                  gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
                  n=0; while ! gone "$pid" && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done
                fi
                rm -f "$dir/state" "$dir/stopping"
                setsid {{launch}} demo-node --dir "$dir" --name "$(cat "$dir/name")" --host "$(cat "$dir/host")" \
                  --http-port "$(cat "$dir/http")" --tcp-port "$(cat "$dir/tcp")" </dev/null >>"$dir/log" 2>&1 9>&- &
                echo $! > "$dir/pid" ;;
              stop)
                [ -f "$dir/pid" ] || exit 0
                pid=$(cat "$dir/pid")
                touch "$dir/stopping"
                kill -TERM "$pid" 2>/dev/null || true
                n=0; while ! gone "$pid" && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
                gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
                n=0; while ! gone "$pid" && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done ;;
              status)
                [ -f "$dir/state" ] && [ -f "$dir/pid" ] && ! gone "$(cat "$dir/pid")" ;;
            esac

            """
        );
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
