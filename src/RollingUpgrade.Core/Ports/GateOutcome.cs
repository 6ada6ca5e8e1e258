using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

public sealed record GateOutcome(bool Passed, string Detail);
