namespace RollingUpgrade.Ports;

/// <summary>Mnesia's view: running and stopped db nodes (Erlang node names).</summary>
public sealed record Membership(IReadOnlyList<string> Running, IReadOnlyList<string> Stopped)
{
    /// <summary>
    /// The mnesia tables with a copy on the node that answered (ram, disc or disc-only; without <c>schema</c>), or
    /// null when the product cannot tell (a generic product, CETS).
    /// </summary>
    public IReadOnlyList<string>? LocalTables { get; init; }
}
