using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Renci.SshNet;

namespace RollingUpgrade.Nodes.Shells;

/// <summary>
/// One long-lived <c>/bin/sh</c> on a node, fed command lines on its standard input. Every SSH
/// exec request starts the account's login shell, which reads its rc files first (on some hosts
/// a tenth of a second or more); this pays that once per session, and each command then costs a
/// fork. Each command runs in a subshell with stdin from /dev/null, exec'd through
/// <c>sh -c</c> so the process has a known id (printed first, so a command that overruns its time
/// can be sent SIGTERM like an exec'd one); then the shell prints the exit code on stdout and a
/// line on stderr, both behind a marker no command can guess, which end the command's output.
/// </summary>
internal sealed class RemoteShell : IDisposable
{
    private readonly SshCommand _command;
    private readonly Stream _input;
    private readonly OutputCollector _output;
    private readonly OutputCollector _error;
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private int _sequence;

    private RemoteShell(SshClient client, SshCommand command)
    {
        Client = client;
        _command = command;
        _ = command.ExecuteAsync(CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        _input = command.CreateInputStream();
        _output = new OutputCollector(command.OutputStream);
        _error = new OutputCollector(command.ExtendedOutputStream);
    }

    /// <summary>The connection this shell runs on.</summary>
    public SshClient Client { get; }

    /// <summary>False once the shell's output has ended (it exited, or the channel closed).</summary>
    public bool IsAlive => !_output.Ended && !_error.Ended;

    /// <summary>The id of the process running the current command, once it has started.</summary>
    public int? RunningPid { get; private set; }

    public static async Task<RemoteShell> OpenAsync(
        SshClient client,
        TimeSpan timeout,
        CancellationToken cancellationToken
    )
    {
        var shell = new RemoteShell(client, client.CreateCommand("exec /bin/sh"));
        try
        {
            // Whatever the login shell printed before sh took over is read and dropped.
            var hello = shell.NextMark();
            await shell
                .WriteAsync($"printf '\\n%s\\n' '{hello}'; printf '\\n%s\\n' '{hello}' >&2\n", cancellationToken)
                .ConfigureAwait(false);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            await Task.WhenAll(
                    shell._output.TakeLineAfterAsync(Encoding.UTF8.GetBytes($"\n{hello}"), limit.Token),
                    shell._error.TakeLineAfterAsync(Encoding.UTF8.GetBytes($"\n{hello}"), limit.Token)
                )
                .ConfigureAwait(false);
            return shell;
        }
        catch
        {
            shell.Dispose();
            throw;
        }
    }

    /// <summary>Runs one simple command line (words already quoted); its exit code, stdout and stderr.</summary>
    public async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string commandLine,
        CancellationToken cancellationToken
    )
    {
        var mark = NextMark();
        RunningPid = null;

        // Between commands nothing of ours is in flight: whatever arrived (a daemon an earlier
        // command left writing to its inherited stdout or stderr) is not this command's output.
        _output.Discard();
        _error.Discard();
        await WriteAsync(
                "( exec setsid /bin/sh -c 'printf \"\\n%s %s\\n\" \"$0\" \"$$\"; exec \"$@\"' "
                    + $"'{mark}pid' {commandLine}\n) "
                    + $"</dev/null; printf '\\n%s %d\\n' '{mark}' $?; printf '\\n%s\\n' '{mark}' >&2\n",
                CancellationToken.None
            )
            .ConfigureAwait(false);

        // Once written, the command starts: its pid is read whatever the caller's time left, so a
        // command cut short can always be sent SIGTERM (the line comes first, before it runs).
        using var pidWait = new CancellationTokenSource(AcknowledgeTimeout);
        string pidText;
        try
        {
            pidText = (
                await _output
                    .TakeLineAfterAsync(Encoding.UTF8.GetBytes($"\n{mark}pid "), pidWait.Token)
                    .ConfigureAwait(false)
            ).Line;
        }
        catch (OperationCanceledException)
        {
            // Not the command's time running out: the connection carried nothing back (a partition, a hung
            // host). Whether the command started is unknown; the connection is not used again.
            throw new IOException(
                $"nothing came back within {AcknowledgeTimeout.TotalSeconds:0}s of sending the command (the connection "
                    + "went silent); whether it started on the node is unknown"
            );
        }

        RunningPid = int.TryParse(pidText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;
        var output = await _output
            .TakeLineAfterAsync(Encoding.UTF8.GetBytes($"\n{mark} "), cancellationToken)
            .ConfigureAwait(false);
        var error = await _error
            .TakeLineAfterAsync(Encoding.UTF8.GetBytes($"\n{mark}"), cancellationToken)
            .ConfigureAwait(false);
        RunningPid = null;
        if (!int.TryParse(output.Line, NumberStyles.Integer, CultureInfo.InvariantCulture, out var exitCode))
        {
            throw new InvalidDataException($"the remote shell reported exit code '{output.Line}'");
        }

        return (exitCode, output.Before, error.Before);
    }

    /// <summary>How long the shell may take to say a command started (its pid line) before it is given up.</summary>
    private static readonly TimeSpan AcknowledgeTimeout = TimeSpan.FromSeconds(10);

    private string NextMark() => $"__rollingupgrade_{_token}_{Interlocked.Increment(ref _sequence)}__";

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        await _input.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await _input.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        try
        {
            // Closing stdin ends the shell; on a connection that already dropped there is no one to tell.
            _input.Dispose();
            _command.Dispose();
        }
        catch (Exception e)
            when (e
                    is Renci.SshNet.Common.SshException
                        or ObjectDisposedException
                        or IOException
                        or InvalidOperationException
                        or System.Net.Sockets.SocketException
            )
        {
            // Gone already.
        }

        _output.Dispose();
        _error.Dispose();
    }

    /// <summary>
    /// Reads one of the session's streams on a thread of its own and lets callers wait for a marker in it.
    /// </summary>
    private sealed class OutputCollector : IDisposable
    {
        private readonly Stream _stream;
        private readonly Lock _lock = new();
        private readonly MemoryStream _buffer = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _ended;

        public bool Ended => _ended;

        public OutputCollector(Stream stream)
        {
            _stream = stream;
            var reader = new Thread(Pump) { IsBackground = true, Name = "remote shell output" };
            reader.Start();
        }

        private void Pump()
        {
            var chunk = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = _stream.Read(chunk, 0, chunk.Length)) > 0)
                {
                    lock (_lock)
                    {
                        _buffer.Write(chunk, 0, read);
                        Interlocked
                            .Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously))
                            .TrySetResult();
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The channel closed under us: the same as its end.
            }

            lock (_lock)
            {
                _ended = true;
                _changed.TrySetResult();
            }
        }

        /// <summary>
        /// Waits for <paramref name="marker"/> followed by a line end; returns what came before it and the rest of that
        /// line.
        /// </summary>
        public async Task<(string Before, string Line)> TakeLineAfterAsync(
            byte[] marker,
            CancellationToken cancellationToken
        )
        {
            var from = 0;
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    var data = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
                    var at = data[from..].IndexOf(marker);
                    at = at < 0 ? -1 : at + from;
                    var end = at < 0 ? -1 : data[(at + marker.Length)..].IndexOf((byte)'\n');
                    if (end >= 0)
                    {
                        var before = Encoding.UTF8.GetString(data[..at]);
                        var line = Encoding.UTF8.GetString(data.Slice(at + marker.Length, end));
                        Consume(at + marker.Length + end + 1);
                        return (before, line);
                    }

                    if (_ended)
                    {
                        throw new IOException("the remote shell ended before the command finished");
                    }

                    // Long output arrives in chunks: only its tail can still hold the start of the marker.
                    from = at >= 0 ? at : Math.Max(0, data.Length - marker.Length);
                    changed = _changed.Task;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public void Discard()
        {
            lock (_lock)
            {
                _buffer.SetLength(0);
            }
        }

        private void Consume(int count)
        {
            var rest = _buffer.GetBuffer().AsSpan(count, (int)_buffer.Length - count).ToArray();
            _buffer.SetLength(0);
            _buffer.Write(rest);
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _ended = true;
                _changed.TrySetResult();
            }
        }
    }
}
