using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.Yarp;

/// <summary>
/// <c>kind = "yarp"</c>: drives the embedded proxy through its admin API. A node is the destination
/// named by its id in this load balancer. The proxy acknowledges a change only after YARP took it.
/// </summary>
public sealed class YarpLoadBalancer : ILoadBalancer, IDisposable
{
    private static readonly TimeSpan HealthPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _http;
    private readonly YarpSettings _settings;
    private readonly TimeProvider _time;

    private readonly Microsoft.Extensions.Logging.ILogger _log;

    public YarpLoadBalancer(
        LoadBalancerSpec spec,
        HttpMessageHandler? handler = null,
        TimeProvider? time = null,
        Microsoft.Extensions.Logging.ILogger? log = null
    )
    {
        _log = log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(spec);
        Name = spec.Name;
        _settings = (YarpSettings)spec.Settings;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            BaseAddress = new Uri(_settings.AdminUrl.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (_settings.TokenEnv is { } env && Environment.GetEnvironmentVariable(env) is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public string Name { get; }

    public async Task<IReadOnlyList<ServerState>> ReadAsync(
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var cluster = await SendAsync<ClusterView>(
                HttpMethod.Get,
                $"v1/clusters/{_settings.Cluster}",
                null,
                cancellationToken
            )
            .ConfigureAwait(false);
        // By name (a cluster of a thousand destinations is read for a thousand nodes).
        var byName = new Dictionary<string, DestinationView>(StringComparer.Ordinal);
        foreach (var destination in cluster.Destinations)
        {
            byName.TryAdd(destination.Name, destination);
        }

        var ids = nodes.Select(n => n.IdIn(Name)).ToHashSet(StringComparer.Ordinal);
        var total = byName.Values.Where(d => ids.Contains(d.Name)).Sum(d => d.Weight);
        return nodes
            .Select(node =>
            {
                var d =
                    byName.GetValueOrDefault(node.IdIn(Name))
                    ?? throw new UnexpectedAnswerException(
                        $"{Name}: cluster '{_settings.Cluster}' has no destination '{node.IdIn(Name)}' (node "
                            + $"{node.Name})"
                    );
                var admin = d.State switch
                {
                    "drain" => ServerAdminState.Drain,
                    "maintenance" => ServerAdminState.Maintenance,
                    _ => ServerAdminState.Ready,
                };
                return new ServerState(
                    Name,
                    node.Name,
                    admin,
                    d.Healthy,
                    d.Live,
                    total == 0 ? 0 : 100.0 * d.Weight / total,
                    d.Errors,
                    SessionsTotal: d.Total
                );
            })
            .ToList();
    }

    public async Task SetStateAsync(NodeSpec node, ServerAdminState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var word = state switch
        {
            ServerAdminState.Drain => "drain",
            ServerAdminState.Maintenance => "maintenance",
            _ => "ready",
        };
        var view = await SendAsync<DestinationView>(
                HttpMethod.Post,
                $"v1/clusters/{_settings.Cluster}/destinations/{node.IdIn(Name)}/state",
                new Dictionary<string, string> { ["state"] = word },
                cancellationToken
            )
            .ConfigureAwait(false);
        if (view.State != word)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: {node.IdIn(Name)} reads back '{view.State}' after setting '{word}'"
            );
        }

        if (state == ServerAdminState.Ready && !view.Healthy)
        {
            await WaitHealthyAsync(node, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A node just started may pass the proxy's next health check only; it has ready_timeout to do so.
    /// </summary>
    private async Task WaitHealthyAsync(NodeSpec node, CancellationToken cancellationToken)
    {
        // The first reading waits one interval: the proxy's next health check decides.
        await Task.Delay(HealthPollInterval, _time, cancellationToken).ConfigureAwait(false);
        var poll = await _time
            .PollAsync(
                HealthPollInterval,
                _settings.ReadyTimeout,
                async ct => (await ReadAsync([node], ct).ConfigureAwait(false))[0].Healthy,
                healthy => healthy,
                cancellationToken
            )
            .ConfigureAwait(false);
        if (!poll.Done)
        {
            throw new UnexpectedAnswerException(
                $"{Name}: {node.IdIn(Name)} is ready but has failed the proxy's health check for "
                    + $"{DurationText.Format(_settings.ReadyTimeout)} (ready_timeout); check that the node listens "
                    + $"where the proxy's cluster points"
            );
        }
    }

    public async Task SetTrafficShareAsync(
        IReadOnlyList<NodeSpec> blue,
        IReadOnlyList<NodeSpec> green,
        int greenPercent,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(blue);
        ArgumentNullException.ThrowIfNull(green);

        // Weights 0..1000: each side's share split evenly over its nodes.
        var weights = blue.ToDictionary(
            n => n.IdIn(Name),
            _ => (int)Math.Round(10.0 * (100 - greenPercent) / blue.Count)
        );
        foreach (var node in green)
        {
            weights[node.IdIn(Name)] = (int)Math.Round(10.0 * greenPercent / green.Count);
        }

        var view = await SendAsync<ClusterView>(
                HttpMethod.Put,
                $"v1/clusters/{_settings.Cluster}/weights",
                weights,
                cancellationToken
            )
            .ConfigureAwait(false);
        foreach (var (name, weight) in weights)
        {
            if (view.Destinations.FirstOrDefault(d => d.Name == name)?.Weight != weight)
            {
                throw new UnexpectedAnswerException($"{Name}: {name} reads back another weight than {weight}");
            }
        }
    }

    public async Task<long> EvictAsync(NodeSpec node, int maxSessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = await SendAsync<Dictionary<string, long>>(
                HttpMethod.Post,
                $"v1/clusters/{_settings.Cluster}/destinations/{node.IdIn(Name)}/evict?max={maxSessions}",
                null,
                cancellationToken
            )
            .ConfigureAwait(false);
        return result.GetValueOrDefault("evicted");
    }

    private async Task<T> SendAsync<T>(
        HttpMethod method,
        string path,
        object? body,
        CancellationToken cancellationToken
    )
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = body is null ? null : JsonContent.Create(body),
        };
        HttpResponseMessage response;
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            ProxyLog.AdminCall(
                _log,
                method.Method,
                path,
                (int)response.StatusCode,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds
            );
        }
        catch (HttpRequestException e)
        {
            throw new TransientException($"cannot reach the proxy admin API at {_settings.AdminUrl}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientException($"the proxy admin API at {_settings.AdminUrl} did not answer in time", e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new UnexpectedAnswerException(
                    $"{Name}: the proxy admin API refused the request (401); set load_balancers.token_env to the "
                        + $"variable holding its token"
                );
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new UnexpectedAnswerException(
                    $"{Name}: {method} {path} answered {(int)response.StatusCode}: {text}"
                );
            }

            return System.Text.Json.JsonSerializer.Deserialize<T>(text)
                ?? throw new UnexpectedAnswerException($"{Name}: empty answer to {method} {path}");
        }
    }

    public void Dispose() => _http.Dispose();
}
