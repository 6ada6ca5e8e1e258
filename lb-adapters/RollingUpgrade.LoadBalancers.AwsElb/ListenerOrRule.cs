using System.Net;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>
/// A listener (its default actions) or a listener rule (its actions), as the API returned them.
/// The actions are kept as XML so they can be sent back whole, including parts this tool does
/// not model (authentication, fixed responses, stickiness).
/// </summary>
public sealed record ListenerOrRule(string Arn, string? Protocol, IReadOnlyList<XElement> Actions);
