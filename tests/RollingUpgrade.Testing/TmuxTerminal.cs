using System.Diagnostics;
using System.Globalization;

namespace RollingUpgrade.Testing;

/// <summary>
/// A real pseudo-terminal: a tmux server on a socket of its own running one command in a pane of a fixed size, whose
/// screen is read as text (<c>capture-pane</c>). Disposing stops the pane's processes and the server by their ids.
/// </summary>
public sealed class TmuxTerminal : IAsyncDisposable
{
    private readonly string _folder;
    private readonly string _socket;
    private int? _serverPid;
    private int? _panePid;

    private TmuxTerminal(string folder)
    {
        _folder = folder;
        _socket = Path.Combine(folder, "tmux.sock");
    }

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a <paramref name="columns"/> x
    /// <paramref name="rows"/> terminal; when it ends, the pane shows "EXIT=code" and stays.</summary>
    public static async Task<TmuxTerminal> StartAsync(
        string command,
        int columns = 160,
        int rows = 50,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        var terminal = new TmuxTerminal(Directory.CreateTempSubdirectory("ru-tmux-").FullName);
        var exports = string.Concat(
            (environment ?? new Dictionary<string, string>()).Select(p => $"export {p.Key}='{p.Value}'; ")
        );
        await terminal
            .TmuxAsync(
                "new-session",
                "-d",
                "-x",
                columns.ToString(CultureInfo.InvariantCulture),
                "-y",
                rows.ToString(CultureInfo.InvariantCulture),
                $"{exports}{command}; echo EXIT=$?; sleep 3600"
            )
            .ConfigureAwait(false);
        var pids = (await terminal.TmuxAsync("display-message", "-p", "#{pid} #{pane_pid}").ConfigureAwait(false))
            .Trim()
            .Split(' ');
        terminal._serverPid = int.Parse(pids[0], CultureInfo.InvariantCulture);
        terminal._panePid = int.Parse(pids[1], CultureInfo.InvariantCulture);
        return terminal;
    }

    /// <summary>The screen as text; with <paramref name="escapes"/>, with its colour and style sequences.</summary>
    public Task<string> ScreenAsync(bool escapes = false) =>
        escapes ? TmuxAsync("capture-pane", "-p", "-e") : TmuxAsync("capture-pane", "-p");

    /// <summary>
    /// Reads the screen every <paramref name="every"/> until the command ended (EXIT= shows) or the time is up;
    /// returns every distinct screen, in order.
    /// </summary>
    public async Task<IReadOnlyList<string>> WatchAsync(TimeSpan every, TimeSpan timeout)
    {
        var screens = new List<string>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var screen = await ScreenAsync().ConfigureAwait(false);
            if (screens.Count == 0 || screens[^1] != screen)
            {
                screens.Add(screen);
            }

            if (screen.Contains("EXIT=", StringComparison.Ordinal))
            {
                return screens;
            }

            await Task.Delay(every).ConfigureAwait(false);
        }

        throw new TimeoutException($"the command did not end within {timeout}:\n{screens.LastOrDefault()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pid in new[] { _panePid, _serverPid }.OfType<int>())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(new CancellationTokenSource(10_000).Token).ConfigureAwait(false);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        Directory.Delete(_folder, recursive: true);
    }

    private async Task<string> TmuxAsync(params string[] args)
    {
        var info = new ProcessStartInfo("tmux")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-S");
        info.ArgumentList.Add(_socket);
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add("/dev/null");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        var error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"tmux {string.Join(' ', args)} exited with {process.ExitCode}: {error}"
            );
        }

        return output;
    }
}
