using System.Diagnostics;
using System.Globalization;
using RollingUpgrade.Demo;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The demo nodes' <c>node.sh</c> as a plan runs it after an interruption: a start that meets a node still
/// shutting down (its state file already gone, so status says stopped) must not take that process for a
/// running node; two starts at once must leave one node whose pid is recorded.
/// </summary>
[Collection("harness")]
public sealed class DemoNodeScriptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-node-sh-").FullName;
    private readonly DemoNodes _nodes;

    public DemoNodeScriptTests() =>
        _nodes = new DemoNodes(_folder, [("n1", "127.0.0.91")], ["dotnet", ProcessLab.CliDll]);

    [Fact(Timeout = 120_000)]
    public async Task A_start_during_a_slow_stop_waits_for_the_old_process_and_starts_a_new_one()
    {
        await RunAsync("start");
        await WaitUntilAsync(() => _nodes.IsUp("n1"));
        var old = Pid();

        // A node that takes its time to exit: stopped (SIGSTOP) so the TERM waits, its state file already gone.
        await RunProcessAsync("kill", "-STOP", old.ToString(CultureInfo.InvariantCulture));
        var stop = RunAsync("stop");
        await WaitUntilAsync(() => File.Exists(Path.Combine(_nodes.Dir("n1"), "stopping")));
        File.Delete(Path.Combine(_nodes.Dir("n1"), "state"));
        (await StatusAsync()).ShouldNotBe(0, "status says stopped while the process still exists");

        await RunAsync("start");
        await stop;

        Gone(old).ShouldBeTrue("the old process is gone before the new one starts");
        Pid().ShouldNotBe(old);
        await WaitUntilAsync(() => _nodes.IsUp("n1"));
        (await StatusAsync()).ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_starts_at_once_leave_one_running_node_whose_pid_is_recorded()
    {
        await Task.WhenAll(RunAsync("start"), RunAsync("start"));
        await WaitUntilAsync(() => _nodes.IsUp("n1"));
        (await StatusAsync()).ShouldBe(0);
        var pid = Pid();
        await Task.Delay(1500);
        Gone(pid).ShouldBeFalse("the recorded node is the one that runs");
        (await StatusAsync()).ShouldBe(0);
    }

    /// <summary>
    /// Stops every node process this test started, by its id: the recorded one and any other whose command line names
    /// this test's folder (a script that fails these tests may start two and record one).
    /// </summary>
    public void Dispose()
    {
        foreach (var pid in NodeProcesses())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        Directory.Delete(_folder, recursive: true);
    }

    private IEnumerable<int> NodeProcesses()
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            string line;
            try
            {
                line = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (
                int.TryParse(Path.GetFileName(dir), out var pid)
                && line.Contains("demo-node", StringComparison.Ordinal)
                && line.Contains(_folder, StringComparison.Ordinal)
            )
            {
                yield return pid;
            }
        }
    }

    /// <summary>No such process, or a zombie nobody has reaped yet.</summary>
    private static bool Gone(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private int Pid() =>
        int.Parse(File.ReadAllText(Path.Combine(_nodes.Dir("n1"), "pid")).Trim(), CultureInfo.InvariantCulture);

    private Task<int> RunAsync(string verb) => RunProcessAsync(_nodes.Script, verb, _nodes.Dir("n1"));

    private Task<int> StatusAsync() => RunAsync("status");

    private static async Task<int> RunProcessAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "waited 30 s");
            await Task.Delay(50);
        }
    }
}
