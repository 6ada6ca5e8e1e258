using System.Globalization;

namespace RollingUpgrade.Demo;

/// <summary>
/// <c>rollingupgrade demo-node --dir DIR --name N --host H --http-port P --tcp-port Q</c>: runs one demo
/// node until SIGTERM. It reads its version from DIR/version (what "install" writes), and keeps
/// DIR/state ("running" while serving) and DIR/sessions (open sessions) for the demo's commands.
/// </summary>
public static class DemoNodeCommand
{
    public static async Task<int> RunAsync(string dir, string name, string host, int httpPort, int tcpPort)
    {
        var version = File.ReadAllText(Path.Combine(dir, "version")).Trim();
        await using var node = new DemoNode(name, host, httpPort, tcpPort, version);
        await node.StartAsync().ConfigureAwait(false);
        await WriteAsync(dir, "running-version", version).ConfigureAwait(false);
        await WriteAsync(dir, "state", "running").ConfigureAwait(false);
        using var stop = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context =>
            {
                context.Cancel = true;
                stop.Cancel();
            }
        );
        var last = -1;
        while (!stop.IsCancellationRequested)
        {
            if (node.Sessions != last)
            {
                last = node.Sessions;
                await WriteAsync(dir, "sessions", last.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            }

            try
            {
                await Task.Delay(100, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        File.Delete(Path.Combine(dir, "state"));
        await WriteAsync(dir, "sessions", "0").ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Replaces DIR/NAME whole (a new file renamed over the old), so a command reading it at the same moment
    /// sees the old text or the new, never an empty file.
    /// </summary>
    private static async Task WriteAsync(string dir, string name, string text)
    {
        var temporary = Path.Combine(dir, $".{name}.{Environment.ProcessId}");
        await File.WriteAllTextAsync(temporary, text).ConfigureAwait(false);
        File.Move(temporary, Path.Combine(dir, name), overwrite: true);
    }
}
