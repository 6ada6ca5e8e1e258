using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Gates;

/// <summary>
/// One instant query against a Prometheus-compatible HTTP API (<c>GET /api/v1/query</c>): Prometheus, Thanos,
/// VictoriaMetrics, Mimir. Vector and scalar results give one value per series.
/// </summary>
public static class PrometheusQuery
{
    public static async Task<IReadOnlyList<double>> RunAsync(
        HttpClient http,
        GateSpec gate,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(gate);
        var url = new Uri(
            $"{gate.Target!.TrimEnd('/')}/api/v1/query?query={Uri.EscapeDataString(gate.Query ?? string.Empty)}"
        );
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (gate.TokenEnv is { } env && Environment.GetEnvironmentVariable(env) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TransientException($"the metrics API at {gate.Target} could not be reached ({e.Message})", e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement root;
            try
            {
                root = JsonDocument.Parse(body).RootElement;
            }
            catch (JsonException)
            {
                throw new UnexpectedAnswerException(
                    $"the metrics API at {gate.Target} answered {(int)response.StatusCode} with something that is "
                        + "not its JSON; is url the Prometheus server's base URL?"
                );
            }

            if (Text(root, "status") != "success")
            {
                var why = Text(root, "error") ?? $"status {(int)response.StatusCode}";
                throw new UnexpectedAnswerException(
                    $"the metrics API refused the query ({Text(root, "errorType") ?? "error"}: {Shorten(why)})"
                );
            }

            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                throw new UnexpectedAnswerException("the metrics API's answer has no data");
            }

            var result = data.TryGetProperty("result", out var r) ? r : default;
            return Text(data, "resultType") switch
            {
                "vector" when result.ValueKind == JsonValueKind.Array => result
                    .EnumerateArray()
                    .Select(series => Sample(series.TryGetProperty("value", out var v) ? v : default))
                    .ToList(),
                "scalar" => [Sample(result)],
                var other => throw new UnexpectedAnswerException(
                    $"the query returned a {other ?? "missing"} result; a gate needs an instant vector or a scalar "
                        + "(aggregate a range with a function such as rate() or avg_over_time())"
                ),
            };
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A sample is <c>[timestamp, "value"]</c>; the value is a string ("NaN", "+Inf" included).</summary>
    private static double Sample(JsonElement sample)
    {
        if (
            sample.ValueKind == JsonValueKind.Array
            && sample.GetArrayLength() == 2
            && sample[1].ValueKind == JsonValueKind.String
        )
        {
            var text = sample[1].GetString()!;
            return text switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
                _ => throw new UnexpectedAnswerException($"the metrics API gave the sample value '{Shorten(text)}'"),
            };
        }

        throw new UnexpectedAnswerException("the metrics API gave a sample that is not [timestamp, \"value\"]");
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..197] + "...";
}
