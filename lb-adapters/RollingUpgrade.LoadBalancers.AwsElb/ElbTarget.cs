using System.Globalization;
using System.Xml.Linq;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>A node as an ELBv2 target: an instance id or IP address, and the port when one is set.</summary>
public sealed record ElbTarget(string Id, int? Port)
{
    /// <summary>"i-0abc", "i-0abc:5222", "10.0.1.10:5222", "2001:db8::1", "[2001:db8::1]:5222".</summary>
    public static ElbTarget Parse(string text, int? defaultPort)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('[') && text.IndexOf("]:", StringComparison.Ordinal) is var close and > 0)
        {
            return new ElbTarget(text[1..close], int.Parse(text[(close + 2)..], CultureInfo.InvariantCulture));
        }

        var colon = text.LastIndexOf(':');
        if (
            colon > 0
            && text.IndexOf(':', StringComparison.Ordinal) == colon
            && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
        )
        {
            return new ElbTarget(text[..colon], port);
        }

        return new ElbTarget(text, defaultPort);
    }

    public (string Id, int? Port) AsPair() => (Id, Port);

    public bool Matches(TargetHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        return health.Id == Id && (Port is null || health.Port is null || health.Port == Port);
    }

    public override string ToString() => Port is { } port ? $"{Id}:{port.ToString(CultureInfo.InvariantCulture)}" : Id;
}
