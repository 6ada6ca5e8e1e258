using System.Runtime.InteropServices;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP (Ctrl-C, systemd, a CI cancel, <c>timeout</c>, Kubernetes) all mean
/// the same: the first stops the run at its next safe point (a running command is waited for,
/// within its timeout; a wait ends at once); the second hurries: the running command's process
/// group is terminated and confirmed gone. Either way the journal says so, the lock is released,
/// and the CLI exits 130. A third signal is left to the runtime.
/// </summary>
internal sealed class SafeStop : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _hurry = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly TextWriter _error;
    private readonly ManualResetEventSlim _finished = new();
    private int _signals;

    public SafeStop(TextWriter error)
    {
        _error = error;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }

        // The runtime has handlers of its own for SIGTERM and SIGINT that may act before ours sees
        // the signal: if it starts shutting down, shutdown waits here until the run has stopped
        // safely (journal written, lock released), and the exit code stays the documented 130.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Called once the run has stopped and said so.</summary>
    public void Finished() => _finished.Set();

    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (Volatile.Read(ref _signals) == 0 || _finished.IsSet)
        {
            return;
        }

        Release(_stop);
        _finished.Wait(TimeSpan.FromMinutes(10));
        Environment.ExitCode = Execution.ExitCodes.Interrupted;
    }

    public CancellationToken Stop => _stop.Token;

    public CancellationToken Hurry => _hurry.Token;

    private void OnSignal(PosixSignalContext context)
    {
        switch (Interlocked.Increment(ref _signals))
        {
            case 1:
                context.Cancel = true;
                _error.WriteLine(
                    $"{context.Signal}: stopping at the next safe point; the running command is waited for "
                        + "(signal again to end it now)"
                );
                Release(_stop);
                break;
            case 2:
                context.Cancel = true;
                _error.WriteLine($"{context.Signal}: ending the running command, then stopping");
                Release(_hurry);
                break;
        }
    }

    /// <summary>
    /// Cancels off the signal thread: the run's continuations must not run inside the handler (the
    /// run could end and unregister the handler before it returns, and the runtime would then
    /// take the signal's default action).
    /// </summary>
    private static void Release(CancellationTokenSource source) => _ = Task.Run(source.Cancel);

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _finished.Set();
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
        _hurry.Dispose();
    }
}
