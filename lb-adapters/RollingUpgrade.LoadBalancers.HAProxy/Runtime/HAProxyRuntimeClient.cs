using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary>
/// HAProxy's runtime API without socat: one connection per command line, the reply read until
/// HAProxy closes the connection. Connecting is retried a few times; a reply is never retried.
/// </summary>
public sealed class HAProxyRuntimeClient
{
    private readonly ResiliencePipeline _connect;
    private readonly ILogger _log;

    public HAProxyRuntimeClient(
        HAProxyEndpoint endpoint,
        TimeSpan timeout,
        TimeProvider? time = null,
        ILogger? log = null
    )
    {
        Endpoint = endpoint;
        _log = log ?? NullLogger.Instance;
        Timeout = timeout;
        _connect = new ResiliencePipelineBuilder { TimeProvider = time ?? TimeProvider.System }
            .AddRetry(
                new RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<SocketException>().Handle<IOException>(),
                    MaxRetryAttempts = 3,
                    Delay = TimeSpan.FromMilliseconds(200),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    OnRetry = retry =>
                    {
                        HAProxyLog.Retrying(
                            _log,
                            Endpoint.ToString(),
                            retry.AttemptNumber + 1,
                            retry.Outcome.Exception?.Message ?? "no answer"
                        );
                        return ValueTask.CompletedTask;
                    },
                }
            )
            .Build();
    }

    public HAProxyEndpoint Endpoint { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Sends one command line and returns HAProxy's whole reply.</summary>
    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken)
    {
        var reply = new StringBuilder();
        await RunAsync(command, chunk => reply.Append(chunk), null, cancellationToken).ConfigureAwait(false);
        return reply.ToString();
    }

    /// <summary>
    /// Sends one command line and hands HAProxy's reply over line by line as it arrives, without keeping it whole
    /// (<c>show sess</c> with 10,000 sessions is megabytes); stops reading, and closes the connection, as soon as
    /// <paramref name="onLine"/> returns false.
    /// </summary>
    public async Task ReadLinesAsync(string command, Func<string, bool> onLine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        var partial = new StringBuilder();
        var stopped = false;
        await RunAsync(
                command,
                _ => { },
                chunk =>
                {
                    var start = 0;
                    for (var newline = chunk.IndexOf('\n'); newline >= 0; newline = chunk.IndexOf('\n', start))
                    {
                        partial.Append(chunk, start, newline - start);
                        start = newline + 1;
                        var line = partial.ToString();
                        partial.Clear();
                        if (!onLine(line))
                        {
                            stopped = true;
                            return false;
                        }
                    }

                    partial.Append(chunk, start, chunk.Length - start);
                    return true;
                },
                cancellationToken
            )
            .ConfigureAwait(false);
        if (!stopped && partial.Length > 0)
        {
            onLine(partial.ToString()); // a last line without its newline
        }
    }

    /// <param name="append">Gets every chunk of the reply, when it is wanted whole.</param>
    /// <param name="more">Gets every chunk as it arrives; false stops reading.</param>
    private async Task RunAsync(
        string command,
        Action<string> append,
        Func<string, bool>? more,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Contains('\n', StringComparison.Ordinal) || command.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("a runtime API command is one line", nameof(command));
        }

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var socket = await _connect.ExecuteAsync(ConnectAsync, timeout.Token).ConfigureAwait(false);
            await socket
                .SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, timeout.Token)
                .ConfigureAwait(false);
            var decoder = Encoding.UTF8.GetDecoder();
            var buffer = new byte[16 * 1024];
            var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
            long length = 0;
            int read;
            while (
                (read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false)) > 0
            )
            {
                var count = decoder.GetChars(buffer, 0, read, chars, 0);
                var chunk = new string(chars, 0, count);
                length += count;
                append(chunk);
                if (more is not null && !more(chunk))
                {
                    break;
                }
            }

            HAProxyLog.Command(
                _log,
                Endpoint.ToString(),
                FirstWords(command),
                (int)Math.Min(length, int.MaxValue),
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds
            );
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            HAProxyLog.TimedOut(_log, Endpoint.ToString(), FirstWords(command), Timeout.TotalSeconds);
            throw new TransientException(
                $"HAProxy runtime API at {Endpoint} did not answer '{FirstWords(command)}' within "
                    + $"{Timeout.TotalSeconds:0.#}s"
            );
        }
        catch (Exception e) when (e is SocketException or IOException && !Endpoint.IsTcp && !File.Exists(Endpoint.Text))
        {
            throw new TransientException(
                $"no socket at {Endpoint}: HAProxy is not running there, or haproxy.cfg has no "
                    + $"'stats socket {Endpoint} level admin' line",
                e
            );
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            throw new TransientException(
                $"cannot reach the HAProxy runtime API at {Endpoint}: {e.Message}; check the 'stats socket' line of "
                    + $"haproxy.cfg and the socket's permissions",
                e
            );
        }
    }

    /// <summary>Sends a command that changes state: any non-empty reply is HAProxy refusing it.</summary>
    public async Task ExecuteMutationAsync(string command, CancellationToken cancellationToken)
    {
        var reply = await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        if (reply.Trim().Length > 0)
        {
            throw new HAProxyCommandException(Endpoint, command, reply.Trim());
        }
    }

    private async ValueTask<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = Endpoint.NewSocket();
        try
        {
            await socket.ConnectAsync(Endpoint.ToEndPoint(), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string FirstWords(string command) => command.Length <= 40 ? command : command[..40] + "...";
}

/// <summary>HAProxy refused a command; the message carries HAProxy's own words.</summary>
internal sealed class HAProxyCommandException(HAProxyEndpoint endpoint, string command, string reply)
    : Exception($"HAProxy at {endpoint} refused '{command}': {reply}")
{
    public string Reply { get; } = reply;
}
