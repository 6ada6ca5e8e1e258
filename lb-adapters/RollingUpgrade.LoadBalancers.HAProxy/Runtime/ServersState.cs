using System.Globalization;

namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary><c>show servers state</c>: the admin state bits, which stay true even when a server is DOWN.</summary>
internal sealed record ServerStateLine(
    string Backend,
    string Server,
    int OperationalState,
    int AdminState,
    int UserWeight
)
{
    public const int ForcedMaintenance = 0x01;
    public const int ForcedDrain = 0x08;

    public bool InMaintenance => (AdminState & ForcedMaintenance) != 0;

    public bool Drained => (AdminState & ForcedDrain) != 0;

    public static IReadOnlyList<ServerStateLine> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header =
            lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))
            ?? throw new Ports.UnexpectedAnswerException(
                $"'show servers state' answered without its header: {text.Trim()}"
            );
        var names = header[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        int Column(string name) =>
            names.IndexOf(name) is var i and >= 0
                ? i
                : throw new Ports.UnexpectedAnswerException($"'show servers state' has no column {name}");
        var (be, srv, op, admin, weight) = (
            Column("be_name"),
            Column("srv_name"),
            Column("srv_op_state"),
            Column("srv_admin_state"),
            Column("srv_uweight")
        );
        var result = new List<ServerStateLine>();
        foreach (var line in lines.Skip(1).Where(l => !l.StartsWith('#')))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length <= Math.Max(Math.Max(be, srv), Math.Max(Math.Max(op, admin), weight)))
            {
                continue;
            }

            result.Add(
                new ServerStateLine(fields[be], fields[srv], Int(fields[op]), Int(fields[admin]), Int(fields[weight]))
            );
        }

        return result;
    }

    private static int Int(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
