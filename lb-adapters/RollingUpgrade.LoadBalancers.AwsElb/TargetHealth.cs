using System.Net;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>One target of a target group as DescribeTargetHealth reports it.</summary>
public sealed record TargetHealth(string Id, int? Port, string State, string? Reason);
