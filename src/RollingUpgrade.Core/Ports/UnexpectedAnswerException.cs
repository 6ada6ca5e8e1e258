using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>A node or load balancer answered something the adapter cannot understand.</summary>
public sealed class UnexpectedAnswerException(string message) : Exception(message);
