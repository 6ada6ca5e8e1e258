using System.Net;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>An ELBv2 error answer: AWS's code and message, and whether it is worth retrying.</summary>
public sealed class ElbV2Exception(string code, string message, HttpStatusCode status) : Exception($"{code}: {message}")
{
    public string Code { get; } = code;

    public HttpStatusCode Status { get; } = status;

    /// <summary>Throttling and server-side errors; nothing else is retried.</summary>
    public bool IsRetryable => Code is "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "TooManyRequestsException" or "RequestTimeout" or "ServiceUnavailable"
        || (int)Status >= 500;
}

/// <summary>One target of a target group as DescribeTargetHealth reports it.</summary>
public sealed record TargetHealth(string Id, int? Port, string State, string? Reason);

/// <summary>
/// A small client for the ELBv2 Query API (Version 2015-12-01): form-encoded POSTs signed with
/// SigV4, XML answers, ErrorResponse parsed into <see cref="ElbV2Exception"/>, throttling and 5xx
/// retried with exponential back-off and jitter.
/// </summary>
public sealed class ElbV2Client
{
    private static readonly XNamespace Ns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly Func<CancellationToken, Task<AwsCredentials>> _credentials;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retry;

    public ElbV2Client(Uri endpoint, string region, Func<CancellationToken, Task<AwsCredentials>> credentials, HttpClient http, TimeProvider? time = null)
    {
        _endpoint = endpoint;
        _region = region;
        _credentials = credentials;
        _http = http;
        _time = time ?? TimeProvider.System;
        _retry = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ElbV2Exception>(e => e.IsRetryable).Handle<HttpRequestException>(),
                MaxRetryAttempts = 4,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    public Task RegisterTargetsAsync(string targetGroupArn, IReadOnlyList<(string Id, int? Port)> targets, CancellationToken cancellationToken) =>
        SendAsync("RegisterTargets", WithTargets(targetGroupArn, targets), cancellationToken);

    public Task DeregisterTargetsAsync(string targetGroupArn, IReadOnlyList<(string Id, int? Port)> targets, CancellationToken cancellationToken) =>
        SendAsync("DeregisterTargets", WithTargets(targetGroupArn, targets), cancellationToken);

    public async Task<IReadOnlyList<TargetHealth>> DescribeTargetHealthAsync(string targetGroupArn, IReadOnlyList<(string Id, int? Port)>? targets, CancellationToken cancellationToken)
    {
        var result = await SendAsync("DescribeTargetHealth", WithTargets(targetGroupArn, targets ?? []), cancellationToken).ConfigureAwait(false);
        return result.Descendants(Ns + "TargetHealthDescriptions").Elements(Ns + "member").Select(m =>
        {
            var target = m.Element(Ns + "Target");
            var health = m.Element(Ns + "TargetHealth");
            return new TargetHealth(
                target?.Element(Ns + "Id")?.Value ?? string.Empty,
                int.TryParse(target?.Element(Ns + "Port")?.Value, out var port) ? port : null,
                health?.Element(Ns + "State")?.Value ?? "unknown",
                health?.Element(Ns + "Reason")?.Value);
        }).ToList();
    }

    /// <summary>Target group name -> ARN, following NextMarker pages.</summary>
    public async Task<IReadOnlyDictionary<string, string>> DescribeTargetGroupsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var groups = new Dictionary<string, string>(StringComparer.Ordinal);
        string? marker = null;
        do
        {
            var parameters = new List<KeyValuePair<string, string>>();
            for (var i = 0; i < names.Count; i++)
            {
                parameters.Add(new($"Names.member.{i + 1}", names[i]));
            }

            if (marker is not null)
            {
                parameters.Add(new("Marker", marker));
            }

            var result = await SendAsync("DescribeTargetGroups", parameters, cancellationToken).ConfigureAwait(false);
            foreach (var member in result.Descendants(Ns + "TargetGroups").Elements(Ns + "member"))
            {
                groups[member.Element(Ns + "TargetGroupName")?.Value ?? string.Empty] = member.Element(Ns + "TargetGroupArn")?.Value ?? string.Empty;
            }

            marker = result.Element(Ns + "NextMarker")?.Value;
        }
        while (!string.IsNullOrEmpty(marker));

        return groups;
    }

    public async Task<IReadOnlyDictionary<string, string>> DescribeTargetGroupAttributesAsync(string targetGroupArn, CancellationToken cancellationToken)
    {
        var result = await SendAsync("DescribeTargetGroupAttributes", [new("TargetGroupArn", targetGroupArn)], cancellationToken).ConfigureAwait(false);
        return result.Descendants(Ns + "Attributes").Elements(Ns + "member")
            .ToDictionary(m => m.Element(Ns + "Key")?.Value ?? string.Empty, m => m.Element(Ns + "Value")?.Value ?? string.Empty, StringComparer.Ordinal);
    }

    private static List<KeyValuePair<string, string>> WithTargets(string targetGroupArn, IReadOnlyList<(string Id, int? Port)> targets)
    {
        var parameters = new List<KeyValuePair<string, string>> { new("TargetGroupArn", targetGroupArn) };
        for (var i = 0; i < targets.Count; i++)
        {
            parameters.Add(new($"Targets.member.{i + 1}.Id", targets[i].Id));
            if (targets[i].Port is { } port)
            {
                parameters.Add(new($"Targets.member.{i + 1}.Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        return parameters;
    }

    /// <summary>Sends one action and returns its &lt;ActionResult&gt; element.</summary>
    public async Task<XElement> SendAsync(string action, IReadOnlyList<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var body = string.Join('&', new[] { new KeyValuePair<string, string>("Action", action), new("Version", "2015-12-01") }.Concat(parameters)
            .Select(p => $"{SigV4.Encode(p.Key)}={SigV4.Encode(p.Value)}"));
        return await _retry.ExecuteAsync(async ct => await SendOnceAsync(action, body, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    private async Task<XElement> SendOnceAsync(string action, string body, CancellationToken cancellationToken)
    {
        var credentials = await _credentials(cancellationToken).ConfigureAwait(false);
        var bytes = Encoding.UTF8.GetBytes(body);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["Host"] = _endpoint.IsDefaultPort ? _endpoint.Host : $"{_endpoint.Host}:{_endpoint.Port}",
        };
        var authorization = SigV4.Sign(credentials, _time.GetUtcNow(), _region, "elasticloadbalancing", "POST", "/", [], headers, bytes);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(headers["Content-Type"]);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", headers["X-Amz-Date"]);
        if (headers.TryGetValue("X-Amz-Security-Token", out var token))
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        XDocument document;
        try
        {
            document = XDocument.Parse(text);
        }
        catch (System.Xml.XmlException)
        {
            throw new ElbV2Exception(response.IsSuccessStatusCode ? "MalformedResponse" : "HttpError", $"{action} answered {(int)response.StatusCode} without XML", response.StatusCode);
        }

        var error = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
        if (!response.IsSuccessStatusCode || error is not null)
        {
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? "HttpError";
            var message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? $"HTTP {(int)response.StatusCode}";
            throw new ElbV2Exception(code, message, response.StatusCode);
        }

        return document.Root?.Element(Ns + $"{action}Result") ?? new XElement(Ns + $"{action}Result");
    }
}
