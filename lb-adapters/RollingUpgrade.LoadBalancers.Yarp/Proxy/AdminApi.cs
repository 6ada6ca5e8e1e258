using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>What the admin API says about one destination.</summary>
internal sealed record DestinationView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("weight")] int Weight,
    [property: JsonPropertyName("healthy")] bool Healthy,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("live")] int Live,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("errors")] long Errors
)
{
    public static DestinationView Of(DestinationRuntime d) =>
        new(d.Name, d.State.ToString().ToLowerInvariant(), d.Weight, d.Healthy, d.Available, d.Live, d.Total, d.Errors);
}

internal sealed record ClusterView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("destinations")] IReadOnlyList<DestinationView> Destinations
);

/// <summary>
/// The proxy's admin API: list clusters and destinations; set a destination's state; set weights;
/// evict live sessions. A change is acknowledged once applied: the next request or connection reads it.
/// A bearer token is required when one is configured (and always when bound off loopback).
/// </summary>
internal static class AdminApi
{
    public static void Map(WebApplication app, ProxyRegistry registry, int port, string? token, int? metricsPort)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RollingUpgrade.Proxy.Admin");
        var root = app.MapGroup(string.Empty).RequireHost($"*:{port}");
        root.AddEndpointFilter(
            async (context, next) =>
            {
                var request = context.HttpContext.Request;
                context.HttpContext.Response.OnCompleted(() =>
                {
                    ProxyLog.AdminServed(
                        log,
                        request.Method,
                        request.Path.Value ?? string.Empty,
                        context.HttpContext.Response.StatusCode
                    );
                    return Task.CompletedTask;
                });
                if (
                    token is not null
                    && context.HttpContext.Request.Headers.Authorization.ToString() != $"Bearer {token}"
                )
                {
                    return Results.Json(
                        new { error = "a bearer token is required: Authorization: Bearer <token>" },
                        statusCode: StatusCodes.Status401Unauthorized
                    );
                }

                return await next(context).ConfigureAwait(false);
            }
        );

        var admin = root.MapGroup("/v1");
        var metrics = new ProxyMetrics(registry);
        root.MapGet("/metrics", metrics.WriteAsync);
        if (metricsPort is { } only)
        {
            app.MapGet("/metrics", metrics.WriteAsync).RequireHost($"*:{only}");
        }
        admin.MapGet("/clusters", () => Results.Json(registry.Clusters.Select(c => View(registry, c)).ToList()));
        admin.MapGet(
            "/clusters/{cluster}",
            (string cluster) =>
                registry.Clusters.Contains(cluster)
                    ? Results.Json(View(registry, cluster))
                    : NotFound($"no cluster '{cluster}'")
        );
        admin.MapPost(
            "/clusters/{cluster}/destinations/{destination}/state",
            async (string cluster, string destination, HttpRequest request) =>
            {
                var target = registry.Find(cluster, destination);
                if (target is null)
                {
                    return NotFound($"no destination '{destination}' in cluster '{cluster}'");
                }

                var body = await ReadAsync<Dictionary<string, string>>(request).ConfigureAwait(false);
                if (
                    body is null
                    || !body.TryGetValue("state", out var word)
                    || !Enum.TryParse<DestinationAdminState>(word, ignoreCase: true, out var state)
                    || int.TryParse(word, out _)
                )
                {
                    return Results.Json(
                        new { error = "body must be {\"state\": \"ready\" | \"drain\" | \"maintenance\"}" },
                        statusCode: StatusCodes.Status400BadRequest
                    );
                }

                target.State = state;
                return Results.Json(DestinationView.Of(target));
            }
        );
        admin.MapPut(
            "/clusters/{cluster}/weights",
            async (string cluster, HttpRequest request) =>
            {
                var weights = await ReadAsync<Dictionary<string, int>>(request).ConfigureAwait(false);
                if (weights is null || weights.Values.Any(w => w is < 0 or > 1000))
                {
                    return Results.Json(
                        new { error = "body must map destination names to weights between 0 and 1000" },
                        statusCode: StatusCodes.Status400BadRequest
                    );
                }

                var unknown = weights.Keys.Where(name => registry.Find(cluster, name) is null).ToList();
                if (!registry.Clusters.Contains(cluster) || unknown.Count > 0)
                {
                    return NotFound($"unknown in cluster '{cluster}': {string.Join(", ", unknown)}");
                }

                foreach (var (name, weight) in weights)
                {
                    registry.Find(cluster, name)!.Weight = weight;
                }

                return Results.Json(View(registry, cluster));
            }
        );
        admin.MapPost(
            "/clusters/{cluster}/destinations/{destination}/evict",
            (string cluster, string destination, int? max) =>
            {
                var target = registry.Find(cluster, destination);
                return target is null
                    ? NotFound($"no destination '{destination}' in cluster '{cluster}'")
                    : Results.Json(new { evicted = target.Evict(max ?? int.MaxValue) });
            }
        );
    }

    private static ClusterView View(ProxyRegistry registry, string cluster) =>
        new(cluster, registry.Destinations(cluster).Select(DestinationView.Of).ToList());

    private static IResult NotFound(string message) =>
        Results.Json(new { error = message }, statusCode: StatusCodes.Status404NotFound);

    private static async Task<T?> ReadAsync<T>(HttpRequest request)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
