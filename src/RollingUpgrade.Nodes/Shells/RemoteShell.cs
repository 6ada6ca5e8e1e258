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
        // The session's own receive thread hands each packet to the collectors as it arrives: no thread of ours
        // waits on a read, so hundreds of nodes cost no more threads than their connections.
        _output = OutputCollector.Receiving(command, nameof(SshCommand.OutputStream));
        _error = OutputCollector.Receiving(command, nameof(SshCommand.ExtendedOutputStream));
        _ = command.ExecuteAsync(CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        _input = command.CreateInputStream();
        _output.StartReadingIfNeeded(command.OutputStream);
        _error.StartReadingIfNeeded(command.ExtendedOutputStream);
    }

    /// <summary>Whether shells receive their output without reader threads here (see OutputCollector).</summary>
    internal static bool ReceivesWithoutThreads => OutputCollector.CanReceive;

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
    /// Collects one of the session's streams and lets callers wait for a marker in it. SSH.NET writes what a channel
    /// receives into the command's output streams from the session's receive thread, and those streams only offer
    /// blocking reads; so the collector takes their place (a write-only stream set on the command before it runs)
    /// and wakes waiting callers as data arrives. Should that place not exist in the SSH.NET in use, a thread of its
    /// own reads the stream instead.
    /// </summary>
    private sealed class OutputCollector : Stream
    {
        private static readonly System.Reflection.PropertyInfo? Output = Replaceable(nameof(SshCommand.OutputStream));

        private static readonly System.Reflection.PropertyInfo? Error = Replaceable(
            nameof(SshCommand.ExtendedOutputStream)
        );

        public static bool CanReceive => Output is not null && Error is not null;

        /// <summary>The command's stream property of that name, when a collector can be set there.</summary>
        private static System.Reflection.PropertyInfo? Replaceable(string name) =>
            typeof(SshCommand).GetProperty(name) is { } property && property.GetSetMethod(nonPublic: true) is not null
                ? property
                : null;

        private readonly Lock _lock = new();
        private readonly MemoryStream _buffer = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _ended;
        private bool _receiving;

        public bool Ended => _ended;

        /// <summary>A collector put in place of a stream of <paramref name="command"/>.</summary>
        public static OutputCollector Receiving(SshCommand command, string name)
        {
            var collector = new OutputCollector();
            if (CanReceive)
            {
                var property = name == Output!.Name ? Output : Error!;
                var old = (Stream?)property.GetValue(command);
                property.SetValue(command, collector);
                old?.Dispose();
                collector._receiving = true;
            }

            return collector;
        }

        /// <summary>Where the collector could not take the stream's place: a thread reads it.</summary>
        public void StartReadingIfNeeded(Stream stream)
        {
            if (_receiving)
            {
                return;
            }

            var reader = new Thread(() => Pump(stream)) { IsBackground = true, Name = "remote shell output" };
            reader.Start();
        }

        private void Pump(Stream stream)
        {
            var chunk = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
                {
                    Append(chunk.AsSpan(0, read));
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The channel closed under us: the same as its end.
            }

            End();
        }

        private void Append(ReadOnlySpan<byte> data)
        {
            lock (_lock)
            {
                if (_ended)
                {
                    return;
                }

                _buffer.Write(data);
                Interlocked
                    .Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult();
            }
        }

        private void End()
        {
            lock (_lock)
            {
                _ended = true;
                _changed.TrySetResult();
            }
        }

        // What the session's receive thread calls: each packet's data, then Dispose when the channel closes.
        public override void Write(byte[] buffer, int offset, int count) => Append(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => Append(buffer);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

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

        protected override void Dispose(bool disposing)
        {
            End();
            base.Dispose(disposing);
        }
    }
}
