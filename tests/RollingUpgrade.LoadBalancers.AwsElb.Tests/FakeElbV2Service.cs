using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using RollingUpgrade.LoadBalancers.AwsElb;

namespace RollingUpgrade.Tests;

/// <summary>
/// An in-memory ELBv2 service behind an HttpMessageHandler, for the timing paths moto does not
/// model: a registered target is <c>initial</c> until it has passed its health checks, a
/// deregistered one is <c>draining</c> for the group's deregistration delay and then gone, and
/// requests can be throttled. It speaks the same Query protocol as AWS (form bodies in, XML
/// out), so the real client, its signing and its retries are what is tested.
/// </summary>
public sealed class FakeElbV2Service(TimeProvider time) : HttpMessageHandler
{
    private static readonly XNamespace Ns = ElbV2Client.Ns;

    public sealed class Group(string name, string arn, string protocol)
    {
        public string Name { get; } = name;

        public string Arn { get; } = arn;

        public string Protocol { get; } = protocol;

        public Dictionary<string, string> Attributes { get; } =
            new(StringComparer.Ordinal) { ["deregistration_delay.timeout_seconds"] = "300" };

        public Dictionary<(string Id, int? Port), (string State, DateTimeOffset Since)> Targets { get; } = [];
    }

    public List<Group> Groups { get; } = [];

    public Dictionary<string, (string Protocol, List<XElement> Actions)> Listeners { get; } =
        new(StringComparer.Ordinal);

    public Dictionary<string, List<XElement>> Rules { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request: its action and parameters, in order.</summary>
    public List<(string Action, Dictionary<string, string> Parameters)> Requests { get; } = [];

    /// <summary>How long a new target stays "initial" before "healthy".</summary>
    public TimeSpan HealthyAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Targets that never pass the health check.</summary>
    public HashSet<string> Unhealthy { get; } = new(StringComparer.Ordinal);

    public int ThrottleNext { get; set; }

    public int Throttled { get; private set; }

    public Group AddGroup(string name, string protocol = "HTTP", int delaySeconds = 300)
    {
        var group = new Group(
            name,
            $"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{name}/"
                + $"{(Groups.Count + 1).ToString("x16", CultureInfo.InvariantCulture)}",
            protocol
        );
        group.Attributes["deregistration_delay.timeout_seconds"] = delaySeconds.ToString(CultureInfo.InvariantCulture);
        Groups.Add(group);
        return group;
    }

    /// <summary>A target that is already registered and healthy.</summary>
    public void AddHealthy(Group group, string id, int? port) =>
        group.Targets[(id, port)] = ("healthy", time.GetUtcNow() - TimeSpan.FromHours(1));

    public string StateOf(Group group, string id, int? port) =>
        Current(group).TryGetValue((id, port), out var t) ? t : "unused";

    protected override async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request,
        CancellationToken cancellationToken
    )
    {
        var body = await request.Content!.ReadAsStringAsync(cancellationToken);
        var parameters = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(
                p => Uri.UnescapeDataString(p[0]),
                p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : string.Empty),
                StringComparer.Ordinal
            );
        var action = parameters["Action"];
        Requests.Add((action, parameters));
        if (
            !request.Headers.TryGetValues("Authorization", out var auth)
            || !auth.Single().StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal)
        )
        {
            return Error(HttpStatusCode.Forbidden, "IncompleteSignature", "no SigV4 Authorization header");
        }

        if (ThrottleNext > 0)
        {
            ThrottleNext--;
            Throttled++;
            return Error(HttpStatusCode.BadRequest, "Throttling", "Rate exceeded");
        }

        try
        {
            return Ok(action, Handle(action, parameters));
        }
        catch (ElbV2Exception e)
        {
            return Error(HttpStatusCode.BadRequest, e.Code, e.Message.Split(": ", 2)[1]);
        }
    }

    private IEnumerable<XElement> Handle(string action, Dictionary<string, string> p)
    {
        switch (action)
        {
            case "RegisterTargets":
                foreach (var target in Targets(p))
                {
                    GroupOf(p).Targets[target] = ("initial", time.GetUtcNow());
                }

                return [];
            case "DeregisterTargets":
                var group = GroupOf(p);
                foreach (
                    var target in Targets(p)
                        .Where(t => Current(group).TryGetValue(t, out var s) && s is not ("draining" or "unused"))
                )
                {
                    group.Targets[target] = ("draining", time.GetUtcNow());
                }

                return [];
            case "DescribeTargetHealth":
                var g = GroupOf(p);
                var current = Current(g);
                var asked = Targets(p).ToList();
                var listed = asked.Count > 0 ? asked : current.Keys.ToList();
                return
                [
                    new XElement(
                        Ns + "TargetHealthDescriptions",
                        listed.Select(t => Health(g, t, current.TryGetValue(t, out var s) ? s : null))
                    ),
                ];
            case "DescribeTargetGroups":
                var names = List(p, "Names");
                var arns = List(p, "TargetGroupArns");
                if (names.Count > 0 && arns.Count > 0)
                {
                    throw new ElbV2Exception(
                        "ValidationError",
                        "Target group names, target group ARNs, and a load balancer ARN cannot be specified at the "
                            + "same time",
                        HttpStatusCode.BadRequest
                    );
                }

                var found = Groups
                    .Where(x => (names.Count == 0 && arns.Count == 0) || names.Contains(x.Name) || arns.Contains(x.Arn))
                    .ToList();
                if (found.Count < names.Count + arns.Count)
                {
                    throw new ElbV2Exception(
                        "TargetGroupNotFound",
                        "One or more target groups not found",
                        HttpStatusCode.BadRequest
                    );
                }

                // Pages of two, so callers must follow NextMarker.
                var start = p.TryGetValue("Marker", out var marker)
                    ? int.Parse(marker, CultureInfo.InvariantCulture)
                    : 0;
                var page = found.Skip(start).Take(2).ToList();
                var result = new List<XElement>
                {
                    new(
                        Ns + "TargetGroups",
                        page.Select(x => new XElement(
                            Ns + "member",
                            new XElement(Ns + "TargetGroupName", x.Name),
                            new XElement(Ns + "TargetGroupArn", x.Arn),
                            new XElement(Ns + "Protocol", x.Protocol),
                            new XElement(Ns + "TargetType", "ip")
                        ))
                    ),
                };
                if (start + 2 < found.Count)
                {
                    result.Add(new XElement(Ns + "NextMarker", (start + 2).ToString(CultureInfo.InvariantCulture)));
                }

                return result;
            case "DescribeTargetGroupAttributes":
                return [Attributes(GroupOf(p).Attributes)];
            case "ModifyTargetGroupAttributes":
                var changed = GroupOf(p);
                for (var i = 1; p.TryGetValue($"Attributes.member.{i}.Key", out var key); i++)
                {
                    changed.Attributes[key] = p[$"Attributes.member.{i}.Value"];
                }

                return [Attributes(changed.Attributes)];
            case "DescribeListeners":
                return [new XElement(Ns + "Listeners", List(p, "ListenerArns").Select(arn => Listener(arn)))];
            case "ModifyListener":
                var listenerArn = p["ListenerArn"];
                Listeners[listenerArn] = (Listeners[listenerArn].Protocol, Unflatten(p, "DefaultActions"));
                return [new XElement(Ns + "Listeners", Listener(listenerArn))];
            case "DescribeRules":
                return [new XElement(Ns + "Rules", List(p, "RuleArns").Select(arn => Rule(arn)))];
            case "ModifyRule":
                Rules[p["RuleArn"]] = Unflatten(p, "Actions");
                return [new XElement(Ns + "Rules", Rule(p["RuleArn"]))];
            default:
                throw new ElbV2Exception("InvalidAction", $"unknown action {action}", HttpStatusCode.BadRequest);
        }
    }

    /// <summary>The targets' states now: initial turns healthy, draining ends after the delay.</summary>
    private Dictionary<(string Id, int? Port), string> Current(Group group)
    {
        var now = time.GetUtcNow();
        foreach (var (key, (state, since)) in group.Targets.ToList())
        {
            var delay = TimeSpan.FromSeconds(
                int.Parse(group.Attributes["deregistration_delay.timeout_seconds"], CultureInfo.InvariantCulture)
            );
            if (state == "initial" && now - since >= HealthyAfter)
            {
                group.Targets[key] = (Unhealthy.Contains(key.Id) ? "unhealthy" : "healthy", now);
            }
            else if (state == "draining" && now - since >= delay)
            {
                group.Targets.Remove(key);
            }
        }

        return group.Targets.ToDictionary(t => t.Key, t => t.Value.State);
    }

    private Group GroupOf(Dictionary<string, string> p) =>
        Groups.FirstOrDefault(g => g.Arn == p["TargetGroupArn"])
        ?? throw new ElbV2Exception(
            "TargetGroupNotFound",
            "One or more target groups not found",
            HttpStatusCode.BadRequest
        );

    private static IEnumerable<(string Id, int? Port)> Targets(Dictionary<string, string> p)
    {
        for (var i = 1; p.TryGetValue($"Targets.member.{i}.Id", out var id); i++)
        {
            yield return (
                id,
                p.TryGetValue($"Targets.member.{i}.Port", out var port)
                    ? int.Parse(port, CultureInfo.InvariantCulture)
                    : null
            );
        }
    }

    private static List<string> List(Dictionary<string, string> p, string name)
    {
        var list = new List<string>();
        for (var i = 1; p.TryGetValue($"{name}.member.{i}", out var value); i++)
        {
            list.Add(value);
        }

        return list;
    }

    private static XElement Health(Group group, (string Id, int? Port) target, string? state) =>
        new(
            Ns + "member",
            new XElement(
                Ns + "Target",
                new XElement(Ns + "Id", target.Id),
                target.Port is { } port ? new XElement(Ns + "Port", port) : null
            ),
            new XElement(
                Ns + "TargetHealth",
                new XElement(Ns + "State", state ?? "unused"),
                state switch
                {
                    null => new XElement(Ns + "Reason", "Target.NotRegistered"),
                    "initial" => new XElement(Ns + "Reason", "Elb.InitialHealthChecking"),
                    "draining" => new XElement(Ns + "Reason", "Target.DeregistrationInProgress"),
                    "unhealthy" => new XElement(Ns + "Reason", "Target.FailedHealthChecks"),
                    _ => null,
                }
            )
        );

    private static XElement Attributes(Dictionary<string, string> attributes) =>
        new(
            Ns + "Attributes",
            attributes.Select(a => new XElement(
                Ns + "member",
                new XElement(Ns + "Key", a.Key),
                new XElement(Ns + "Value", a.Value)
            ))
        );

    private XElement Listener(string arn) =>
        Listeners.TryGetValue(arn, out var listener)
            ? new XElement(
                Ns + "member",
                new XElement(Ns + "ListenerArn", arn),
                new XElement(Ns + "Protocol", listener.Protocol),
                new XElement(Ns + "DefaultActions", listener.Actions.Select(a => new XElement(a)))
            )
            : throw new ElbV2Exception(
                "ListenerNotFound",
                "One or more listeners not found",
                HttpStatusCode.BadRequest
            );

    private XElement Rule(string arn) =>
        Rules.TryGetValue(arn, out var actions)
            ? new XElement(
                Ns + "member",
                new XElement(Ns + "RuleArn", arn),
                new XElement(Ns + "Actions", actions.Select(a => new XElement(a)))
            )
            : throw new ElbV2Exception("RuleNotFound", "One or more rules not found", HttpStatusCode.BadRequest);

    /// <summary>Query parameters under <paramref name="prefix"/> back into the XML members they encode.</summary>
    public static List<XElement> Unflatten(Dictionary<string, string> p, string prefix)
    {
        var root = new XElement(Ns + prefix);
        foreach (
            var (key, value) in p.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal))
                .OrderBy(kv => kv.Key, StringComparer.Ordinal)
        )
        {
            var parts = key[(prefix.Length + 1)..].Split('.');
            var node = root;
            for (var i = 0; i < parts.Length; i++)
            {
                if (parts[i] == "member")
                {
                    var index = int.Parse(parts[++i], CultureInfo.InvariantCulture);
                    while (node.Elements(Ns + "member").Count() < index)
                    {
                        node.Add(new XElement(Ns + "member"));
                    }

                    node = node.Elements(Ns + "member").ElementAt(index - 1);
                }
                else
                {
                    var child = node.Element(Ns + parts[i]);
                    if (child is null)
                    {
                        child = new XElement(Ns + parts[i]);
                        node.Add(child);
                    }

                    node = child;
                }
            }

            node.Value = value;
        }

        return root.Elements(Ns + "member").ToList();
    }

    private static HttpResponseMessage Ok(string action, IEnumerable<XElement> result) =>
        new(HttpStatusCode.OK)
        {
            Content = new StringContent(
                new XElement(
                    Ns + $"{action}Response",
                    new XElement(Ns + $"{action}Result", result),
                    new XElement(Ns + "ResponseMetadata", new XElement(Ns + "RequestId", Guid.NewGuid()))
                ).ToString(),
                Encoding.UTF8,
                "text/xml"
            ),
        };

    private static HttpResponseMessage Error(HttpStatusCode status, string code, string message) =>
        new(status)
        {
            Content = new StringContent(
                new XElement(
                    Ns + "ErrorResponse",
                    new XElement(
                        Ns + "Error",
                        new XElement(Ns + "Type", "Sender"),
                        new XElement(Ns + "Code", code),
                        new XElement(Ns + "Message", message)
                    ),
                    new XElement(Ns + "RequestId", Guid.NewGuid())
                ).ToString(),
                Encoding.UTF8,
                "text/xml"
            ),
        };
}
