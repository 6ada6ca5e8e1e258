using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>Network gates (http, tcp, xmpp-login) checked against one node.</summary>
public interface IGateProbe
{
    Task<GateOutcome> CheckAsync(GateSpec gate, NodeSpec node, CancellationToken cancellationToken);
}
