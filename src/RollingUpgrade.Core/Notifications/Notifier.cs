using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Notifications;

/// <summary>
/// Tells the plan's <c>[[notify]]</c> webhooks of a run's milestones. It never blocks the run: events are queued and
/// delivered in the background, each with bounded attempts and a timeout; a receiver that is down, refuses or hangs
/// costs a warning, never the run. <see cref="DisposeAsync"/> waits a bounded time for what is queued (the run's
/// outcome above all) before the command exits.
/// </summary>
public sealed class Notifier : IRunObserver, IAsyncDisposable
{
    /// <summary>The HMAC-SHA256 of the body under the receiver's secret, as <c>sha256=HEX</c>.</summary>
    public const string SignatureHeader = "X-RollingUpgrade-Signature";

    public const string EventHeader = "X-RollingUpgrade-Event";

    private readonly Plan _plan;
    private readonly HttpClient _http;
    private readonly Action<string> _warn;
    private readonly Func<string, string?> _environment;
    private readonly TimeProvider _time;
    private readonly HashSet<int> _nodeDoneSteps;
    private readonly Channel<(NotifySpec Receiver, string Kind, RunEvent Event)> _queue;
    private readonly CancellationTokenSource _abandon = new();
    private readonly Task _worker;
    private int _dropped;
    private int _disposed;

    /// <param name="warn">Says a warning through the run's own output (never with the URL or the secret).</param>
    public Notifier(
        Plan plan,
        Action<string> warn,
        HttpMessageHandler? handler = null,
        Func<string, string?>? environment = null,
        TimeProvider? time = null
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        _warn = warn;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // A rolling run's node is done when its last step (back in rotation in every balancer) has succeeded.
        _nodeDoneSteps =
            plan.Strategy is RollingStrategySpec
                ? Planner
                    .Create(plan)
                    .Steps.Where(s => s.Node is not null)
                    .GroupBy(s => s.Node)
                    .Select(g => g.Max(s => s.Number))
                    .ToHashSet()
                : [];
        _queue = Channel.CreateBounded<(NotifySpec, string, RunEvent)>(
            new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true }
        );
        _worker = Task.Run(DeliverAllAsync);
    }

    /// <summary>How long the end of a run waits at most for queued notifications.</summary>
    public TimeSpan FlushLimit { get; init; } = TimeSpan.FromSeconds(30);

    public void OnEvent(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        if (Classify(runEvent) is not { } kind)
        {
            return;
        }

        foreach (var receiver in _plan.Notify.Where(r => r.Events.Contains(kind)))
        {
            if (!_queue.Writer.TryWrite((receiver, kind, runEvent)) && Interlocked.Increment(ref _dropped) == 1)
            {
                _warn($"notify '{receiver.Name}': too many notifications waiting; later ones are dropped");
            }
        }
    }

    /// <summary>Which notification an event is, or null.</summary>
    private string? Classify(RunEvent e)
    {
        var forward = e.Phase is null or RunPhases.ForwardText;
        return e.Type switch
        {
            RunEventTypes.RunStarted => NotifyEvents.Started,
            RunEventTypes.StepStarted when e.Data?.GetValueOrDefault("kind") == nameof(StepKind.AwaitPromote) =>
                NotifyEvents.WaitingForPromote,
            RunEventTypes.StepSucceeded when forward && e.Step is { } n && _nodeDoneSteps.Contains(n) =>
                NotifyEvents.NodeDone,
            RunEventTypes.RunFinished => e.Data?.GetValueOrDefault("reason") == "lease-lost"
                ? NotifyEvents.LeaseLost
                : e.Data?.GetValueOrDefault("outcome") switch
                {
                    "succeeded" => NotifyEvents.Succeeded,
                    "rolled-back" => NotifyEvents.RolledBack,
                    "halted" or "needs-operator" => NotifyEvents.Halted,
                    _ => null,
                },
            _ => null,
        };
    }

    private async Task DeliverAllAsync()
    {
        try
        {
            await foreach (var (receiver, kind, runEvent) in _queue.Reader.ReadAllAsync(_abandon.Token))
            {
                await DeliverAsync(receiver, kind, runEvent).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            // The flush limit passed: what is left is not sent (said by DisposeAsync).
        }
    }

    private async Task DeliverAsync(NotifySpec receiver, string kind, RunEvent runEvent)
    {
        var url = _environment(receiver.UrlEnv);
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var what = string.IsNullOrWhiteSpace(url) ? "not set" : "not a URL";
            _warn($"notify '{receiver.Name}': {receiver.UrlEnv} is {what}; '{kind}' was not sent");
            return;
        }

        var body = Body(receiver, kind, runEvent);
        var secret = receiver.SecretEnv is { } secretEnv ? _environment(secretEnv) : null;
        if (receiver.SecretEnv is not null && string.IsNullOrEmpty(secret))
        {
            _warn($"notify '{receiver.Name}': {receiver.SecretEnv} is not set; '{kind}' was not sent unsigned");
            return;
        }

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(
                new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = receiver.Attempts - 1,
                    Delay = TimeSpan.FromSeconds(1),
                    BackoffType = DelayBackoffType.Exponential,
                    ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                        .Handle<HttpRequestException>()
                        .Handle<TimeoutRejectedException>()
                        .HandleResult(r => (int)r.StatusCode >= 500 || (int)r.StatusCode == 429),
                }
            )
            .AddTimeout(receiver.Timeout)
            .Build();
        string? failure = null;
        try
        {
            using var response = await pipeline
                .ExecuteAsync(
                    async token =>
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
                        {
                            Content = new ByteArrayContent(body),
                        };
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        request.Headers.Add(EventHeader, kind);
                        if (secret is not null)
                        {
                            request.Headers.Add(SignatureHeader, Sign(secret, body));
                        }

                        return await _http.SendAsync(request, token).ConfigureAwait(false);
                    },
                    _abandon.Token
                )
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                failure = $"the receiver answered {(int)response.StatusCode}";
            }
        }
        catch (HttpRequestException e)
        {
            failure = e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : Words(e.HttpRequestError);
        }
        catch (TimeoutRejectedException)
        {
            failure = $"no answer within {Text.DurationText.Format(receiver.Timeout)}";
        }

        if (failure is not null)
        {
            _warn(
                $"notify '{receiver.Name}': '{kind}' not delivered after {receiver.Attempts} attempt(s) ({failure}); "
                    + "the run goes on"
            );
        }
    }

    private static string Words(HttpRequestError error) =>
        error switch
        {
            HttpRequestError.ConnectionError => "the receiver refused or dropped the connection",
            HttpRequestError.NameResolutionError => "the receiver's host name does not resolve",
            HttpRequestError.SecureConnectionError => "TLS with the receiver failed",
            _ => $"the request failed ({error})",
        };

    /// <summary><c>sha256=</c> and the lowercase hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body ?? []));

    private byte[] Body(NotifySpec receiver, string kind, RunEvent e)
    {
        if (receiver.Format == NotifyFormats.Slack)
        {
            var text =
                $"rollingupgrade {_plan.Cluster.Name}: {kind}{(e.Node is null ? "" : $" ({e.Node})")} - {e.Message}";
            return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["text"] = text });
        }

        var payload = new Dictionary<string, object?>
        {
            ["event"] = kind,
            ["cluster"] = _plan.Cluster.Name,
            ["run"] = e.RunId,
            ["at"] = e.At.ToString("O", CultureInfo.InvariantCulture),
            ["message"] = e.Message,
            ["target_version"] = _plan.Upgrade.TargetVersion,
            ["plan_fingerprint"] = _plan.Fingerprint,
        };
        if (e.Node is not null)
        {
            payload["node"] = e.Node;
        }

        if (e.Step is not null)
        {
            payload["step"] = e.Step;
        }

        if (e.Data?.GetValueOrDefault("next") is { } next)
        {
            payload["next"] = next;
        }

        return JsonSerializer.SerializeToUtf8Bytes(payload);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        var finished = await Task.WhenAny(_worker, Task.Delay(FlushLimit, _time)).ConfigureAwait(false);
        if (finished != _worker)
        {
            await _abandon.CancelAsync().ConfigureAwait(false);
            _warn($"notify: gave up on notifications still unsent after {Text.DurationText.Format(FlushLimit)}");
            await _worker.ConfigureAwait(false);
        }

        _abandon.Dispose();
        _http.Dispose();
    }
}
