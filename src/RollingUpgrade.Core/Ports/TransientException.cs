using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Ports;

/// <summary>A port call failed in a way that may pass on retry (a dropped connection, a busy socket).</summary>
public sealed class TransientException(string message, Exception? inner = null) : Exception(message, inner);
