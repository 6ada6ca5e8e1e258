using System.Net;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>A target group as DescribeTargetGroups reports it.</summary>
public sealed record TargetGroupInfo(
    string Name,
    string Arn,
    string? Protocol,
    int? Port,
    string? TargetType,
    IReadOnlyList<string> LoadBalancerArns
);
