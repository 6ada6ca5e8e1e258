using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>Mnesia's view: running and stopped db nodes (Erlang node names).</summary>
public sealed record Membership(IReadOnlyList<string> Running, IReadOnlyList<string> Stopped);
