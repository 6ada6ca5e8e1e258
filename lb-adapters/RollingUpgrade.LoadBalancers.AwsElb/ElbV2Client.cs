using System.Net;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>An ELBv2 error answer: AWS's code and message, and whether it is worth retrying.</summary>
internal sealed class ElbV2Exception(string code, string message, HttpStatusCode status)
    : Exception($"{code}: {message}")
{
    public string Code { get; } = code;

    public HttpStatusCode Status { get; } = status;

    /// <summary>Throttling and server-side errors; nothing else is retried.</summary>
    public bool IsRetryable =>
        Code
            is "Throttling"
                or "ThrottlingException"
                or "RequestLimitExceeded"
                or "TooManyRequestsException"
                or "RequestTimeout"
                or "ServiceUnavailable"
        || (int)Status >= 500;
}

/// <summary>
/// A small client for the ELBv2 Query API (Version 2015-12-01): form-encoded POSTs signed with
/// SigV4, XML answers, ErrorResponse parsed into <see cref="ElbV2Exception"/>, throttling and 5xx
/// retried with exponential back-off and jitter.
/// </summary>
public sealed class ElbV2Client
{
    public static readonly XNamespace Ns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly Func<CancellationToken, Task<AwsCredentials>> _credentials;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retry;

    public ElbV2Client(
        Uri endpoint,
        string region,
        Func<CancellationToken, Task<AwsCredentials>> credentials,
        HttpClient http,
        TimeProvider? time = null
    )
    {
        _endpoint = endpoint;
        _region = region;
        _credentials = credentials;
        _http = http;
        _time = time ?? TimeProvider.System;
        _retry = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(
                new RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder()
                        .Handle<ElbV2Exception>(e => e.IsRetryable)
                        .Handle<HttpRequestException>(),
                    MaxRetryAttempts = 4,
                    Delay = TimeSpan.FromMilliseconds(200),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                }
            )
            .Build();
    }

    public Task RegisterTargetsAsync(
        string targetGroupArn,
        IReadOnlyList<(string Id, int? Port)> targets,
        CancellationToken cancellationToken
    ) => SendAsync("RegisterTargets", WithTargets(targetGroupArn, targets), cancellationToken);

    public Task DeregisterTargetsAsync(
        string targetGroupArn,
        IReadOnlyList<(string Id, int? Port)> targets,
        CancellationToken cancellationToken
    ) => SendAsync("DeregisterTargets", WithTargets(targetGroupArn, targets), cancellationToken);

    public async Task<IReadOnlyList<TargetHealth>> DescribeTargetHealthAsync(
        string targetGroupArn,
        IReadOnlyList<(string Id, int? Port)>? targets,
        CancellationToken cancellationToken
    )
    {
        var result = await SendAsync(
                "DescribeTargetHealth",
                WithTargets(targetGroupArn, targets ?? []),
                cancellationToken
            )
            .ConfigureAwait(false);
        return result
            .Descendants(Ns + "TargetHealthDescriptions")
            .Elements(Ns + "member")
            .Select(m =>
            {
                var target = m.Element(Ns + "Target");
                var health = m.Element(Ns + "TargetHealth");
                return new TargetHealth(
                    target?.Element(Ns + "Id")?.Value ?? string.Empty,
                    int.TryParse(target?.Element(Ns + "Port")?.Value, out var port) ? port : null,
                    health?.Element(Ns + "State")?.Value ?? "unknown",
                    health?.Element(Ns + "Reason")?.Value
                );
            })
            .ToList();
    }

    /// <summary>Target group name -> ARN, following NextMarker pages.</summary>
    public async Task<IReadOnlyDictionary<string, string>> DescribeTargetGroupsAsync(
        IReadOnlyList<string> names,
        CancellationToken cancellationToken
    ) =>
        (await DescribeTargetGroupsAsync(names, [], cancellationToken).ConfigureAwait(false)).ToDictionary(
            g => g.Name,
            g => g.Arn,
            StringComparer.Ordinal
        );

    /// <summary>
    /// Target groups by name and/or ARN (one call for each: the API refuses both at once), following NextMarker pages.
    /// </summary>
    public async Task<IReadOnlyList<TargetGroupInfo>> DescribeTargetGroupsAsync(
        IReadOnlyList<string> names,
        IReadOnlyList<string> arns,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(arns);
        var groups = new List<TargetGroupInfo>();
        var queries = new[] { Members("Names", names).ToList(), Members("TargetGroupArns", arns).ToList() }
            .Where(q => q.Count > 0)
            .ToList();
        if (queries.Count == 0)
        {
            queries.Add([]); // every target group of the account and region
        }

        foreach (var parameters in queries)
        {
            await foreach (
                var member in PagesAsync("DescribeTargetGroups", parameters, "TargetGroups", cancellationToken)
                    .ConfigureAwait(false)
            )
            {
                groups.Add(
                    new TargetGroupInfo(
                        Text(member, "TargetGroupName") ?? string.Empty,
                        Text(member, "TargetGroupArn") ?? string.Empty,
                        Text(member, "Protocol"),
                        int.TryParse(Text(member, "Port"), out var port) ? port : null,
                        Text(member, "TargetType"),
                        member.Element(Ns + "LoadBalancerArns")?.Elements(Ns + "member").Select(e => e.Value).ToList()
                            ?? []
                    )
                );
            }
        }

        return groups;
    }

    public async Task<IReadOnlyDictionary<string, string>> ModifyTargetGroupAttributesAsync(
        string targetGroupArn,
        IReadOnlyDictionary<string, string> attributes,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var parameters = new List<KeyValuePair<string, string>> { new("TargetGroupArn", targetGroupArn) };
        var i = 0;
        foreach (var (key, value) in attributes)
        {
            i++;
            parameters.Add(new($"Attributes.member.{i}.Key", key));
            parameters.Add(new($"Attributes.member.{i}.Value", value));
        }

        var result = await SendAsync("ModifyTargetGroupAttributes", parameters, cancellationToken)
            .ConfigureAwait(false);
        return Attributes(result);
    }

    public async Task<IReadOnlyList<ListenerOrRule>> DescribeListenersAsync(
        IReadOnlyList<string> listenerArns,
        CancellationToken cancellationToken
    )
    {
        var listeners = new List<ListenerOrRule>();
        await foreach (
            var member in PagesAsync(
                    "DescribeListeners",
                    Members("ListenerArns", listenerArns).ToList(),
                    "Listeners",
                    cancellationToken
                )
                .ConfigureAwait(false)
        )
        {
            listeners.Add(
                new ListenerOrRule(
                    Text(member, "ListenerArn") ?? string.Empty,
                    Text(member, "Protocol"),
                    ActionsOf(member, "DefaultActions")
                )
            );
        }

        return listeners;
    }

    public async Task<IReadOnlyList<ListenerOrRule>> DescribeRulesAsync(
        IReadOnlyList<string> ruleArns,
        CancellationToken cancellationToken
    )
    {
        var rules = new List<ListenerOrRule>();
        await foreach (
            var member in PagesAsync(
                    "DescribeRules",
                    Members("RuleArns", ruleArns).ToList(),
                    "Rules",
                    cancellationToken
                )
                .ConfigureAwait(false)
        )
        {
            rules.Add(new ListenerOrRule(Text(member, "RuleArn") ?? string.Empty, null, ActionsOf(member, "Actions")));
        }

        return rules;
    }

    /// <summary>
    /// Replaces the listener's whole default action list (the API takes nothing less) and returns what it now holds.
    /// </summary>
    public async Task<ListenerOrRule> ModifyListenerAsync(
        string listenerArn,
        IReadOnlyList<XElement> actions,
        CancellationToken cancellationToken
    )
    {
        var parameters = new List<KeyValuePair<string, string>> { new("ListenerArn", listenerArn) };
        parameters.AddRange(QueryEncoding.Flatten("DefaultActions", actions));
        var result = await SendAsync("ModifyListener", parameters, cancellationToken).ConfigureAwait(false);
        var member = result.Element(Ns + "Listeners")?.Elements(Ns + "member").FirstOrDefault();
        return new ListenerOrRule(
            listenerArn,
            member is null ? null : Text(member, "Protocol"),
            member is null ? [] : ActionsOf(member, "DefaultActions")
        );
    }

    /// <summary>Replaces the rule's whole action list and returns what it now holds.</summary>
    public async Task<ListenerOrRule> ModifyRuleAsync(
        string ruleArn,
        IReadOnlyList<XElement> actions,
        CancellationToken cancellationToken
    )
    {
        var parameters = new List<KeyValuePair<string, string>> { new("RuleArn", ruleArn) };
        parameters.AddRange(QueryEncoding.Flatten("Actions", actions));
        var result = await SendAsync("ModifyRule", parameters, cancellationToken).ConfigureAwait(false);
        var member = result.Element(Ns + "Rules")?.Elements(Ns + "member").FirstOrDefault();
        return new ListenerOrRule(ruleArn, null, member is null ? [] : ActionsOf(member, "Actions"));
    }

    /// <summary>The members of every page of a paged Describe call.</summary>
    private async IAsyncEnumerable<XElement> PagesAsync(
        string action,
        List<KeyValuePair<string, string>> parameters,
        string listName,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        string? marker = null;
        do
        {
            var page = marker is null ? parameters : [.. parameters, new("Marker", marker)];
            var result = await SendAsync(action, page, cancellationToken).ConfigureAwait(false);
            foreach (var member in result.Elements(Ns + listName).Elements(Ns + "member"))
            {
                yield return member;
            }

            marker = result.Element(Ns + "NextMarker")?.Value;
        } while (!string.IsNullOrEmpty(marker));
    }

    private static IEnumerable<KeyValuePair<string, string>> Members(string name, IReadOnlyList<string> values) =>
        values.Select((v, i) => new KeyValuePair<string, string>($"{name}.member.{i + 1}", v));

    private static string? Text(XElement element, string name) => element.Element(Ns + name)?.Value;

    private static IReadOnlyList<XElement> ActionsOf(XElement member, string name) =>
        member.Element(Ns + name)?.Elements(Ns + "member").ToList() ?? [];

    private static IReadOnlyDictionary<string, string> Attributes(XElement result) =>
        result
            .Descendants(Ns + "Attributes")
            .Elements(Ns + "member")
            .ToDictionary(
                m => m.Element(Ns + "Key")?.Value ?? string.Empty,
                m => m.Element(Ns + "Value")?.Value ?? string.Empty,
                StringComparer.Ordinal
            );

    public async Task<IReadOnlyDictionary<string, string>> DescribeTargetGroupAttributesAsync(
        string targetGroupArn,
        CancellationToken cancellationToken
    )
    {
        var result = await SendAsync(
                "DescribeTargetGroupAttributes",
                [new("TargetGroupArn", targetGroupArn)],
                cancellationToken
            )
            .ConfigureAwait(false);
        return Attributes(result);
    }

    private static List<KeyValuePair<string, string>> WithTargets(
        string targetGroupArn,
        IReadOnlyList<(string Id, int? Port)> targets
    )
    {
        var parameters = new List<KeyValuePair<string, string>> { new("TargetGroupArn", targetGroupArn) };
        for (var i = 0; i < targets.Count; i++)
        {
            parameters.Add(new($"Targets.member.{i + 1}.Id", targets[i].Id));
            if (targets[i].Port is { } port)
            {
                parameters.Add(
                    new(
                        $"Targets.member.{i + 1}.Port",
                        port.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    )
                );
            }
        }

        return parameters;
    }

    /// <summary>Sends one action and returns its &lt;ActionResult&gt; element.</summary>
    public async Task<XElement> SendAsync(
        string action,
        IReadOnlyList<KeyValuePair<string, string>> parameters,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var body = string.Join(
            '&',
            new[] { new KeyValuePair<string, string>("Action", action), new("Version", "2015-12-01") }
                .Concat(parameters)
                .Select(p => $"{SigV4.Encode(p.Key)}={SigV4.Encode(p.Value)}")
        );
        return await _retry
            .ExecuteAsync(async ct => await SendOnceAsync(action, body, ct).ConfigureAwait(false), cancellationToken)
            .ConfigureAwait(false);
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
        var authorization = SigV4.Sign(
            credentials,
            _time.GetUtcNow(),
            _region,
            "elasticloadbalancing",
            "POST",
            "/",
            [],
            headers,
            bytes
        );
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(
            headers["Content-Type"]
        );
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
            throw new ElbV2Exception(
                response.IsSuccessStatusCode ? "MalformedResponse" : "HttpError",
                $"{action} answered {(int)response.StatusCode} without XML",
                response.StatusCode
            );
        }

        var error = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
        if (!response.IsSuccessStatusCode || error is not null)
        {
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? "HttpError";
            var message =
                error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value
                ?? $"HTTP {(int)response.StatusCode}";
            throw new ElbV2Exception(code, message, response.StatusCode);
        }

        return document.Root?.Element(Ns + $"{action}Result") ?? new XElement(Ns + $"{action}Result");
    }
}
