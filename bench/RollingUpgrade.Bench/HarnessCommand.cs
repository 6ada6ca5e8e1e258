using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// Starts the rolling-upgrade harness and keeps it up until the process is interrupted: for trying
/// plans and calls by hand. Prints the plan path, the HAProxy socket and the frontends.
/// </summary>
internal static class HarnessCommand
{
    public static async Task<int> RunAsync(string repositoryRoot)
    {
        await using var harness = await UpgradeHarness.StartAsync(users: 30);
        var plan = harness.WritePlan(repositoryRoot);
        Console.WriteLine($"plan: {plan}");
        Console.WriteLine(
            $"haproxy socket: {harness.HAProxy.SocketPath}; tcp frontend 127.0.0.1:"
                + $"{harness.HAProxy.TcpFrontendPort}, http frontend 127.0.0.1:{harness.HAProxy.HttpFrontendPort}"
        );
        Console.WriteLine($"nodes: {harness.Cluster.Folder} (ejctl, ejnode); sshd port {harness.Sshd.Port}");
        Console.WriteLine("running until Ctrl-C or SIGTERM");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            c =>
            {
                c.Cancel = true;
                stop.Cancel();
            }
        );
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("stopping the harness");
        }

        return 0;
    }
}
