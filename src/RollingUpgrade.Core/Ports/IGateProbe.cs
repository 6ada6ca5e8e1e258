using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>Network gates (http, tcp, xmpp-login) checked against one node.</summary>
public interface IGateProbe
{
    Task<GateOutcome> CheckAsync(GateSpec gate, NodeSpec node, CancellationToken cancellationToken);

    /// <summary>
    /// A prometheus gate's query now: one value per series returned (empty when there is no data). An API that
    /// cannot be reached throws <see cref="TransientException"/>; an answer that is not the API's is
    /// <see cref="UnexpectedAnswerException"/>.
    /// </summary>
    Task<IReadOnlyList<double>> QueryAsync(GateSpec gate, CancellationToken cancellationToken);
}
