using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>
/// An in-memory cluster: nodes with a run state, an installed and a running version, a config
/// file, client sessions that end at set times, and a mnesia view. The fakes of every port act on it.
/// </summary>
public sealed class FakeWorld(TimeProvider time)
{
    public TimeProvider Time { get; } = time;

    /// <summary>Held by every fake port while it reads or changes the world: the steps of a batch run at once.</summary>
    public Lock Gate { get; } = new();

    public Dictionary<string, FakeNode> Nodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Every command the fake shells ran, as "node: argv".</summary>
    public List<string> Commands { get; } = [];

    public FakeNode Add(string name, string erlang, string version)
    {
        var node = new FakeNode(name, erlang) { RunningVersion = version, InstalledVersion = version };
        Nodes[name] = node;
        return node;
    }

    /// <summary>Nodes some fake load balancer has drained or put in maintenance.</summary>
    public HashSet<string> OutOfRotation { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The share of the sessions evicted from a node (by name) whose clients reconnect (through the balancers, to a
    /// running node in rotation, the one with the fewest sessions, as a least-connections balancer picks); the
    /// others leave for good. Every client reconnects unless a test says otherwise.
    /// </summary>
    public Dictionary<string, int> ReconnectPercent { get; } = new(StringComparer.Ordinal);

    /// <summary>Evicted sessions that reconnected, as "from->to".</summary>
    public List<string> Reconnects { get; } = [];

    private readonly Dictionary<string, long> _evictedSoFar = new(StringComparer.Ordinal);

    /// <summary>Ends <paramref name="sessions"/> on <paramref name="from"/>; their clients reconnect elsewhere.</summary>
    public void Evicted(FakeNode from, IReadOnlyList<DateTimeOffset> sessions)
    {
        var now = Time.GetUtcNow();
        foreach (var end in sessions)
        {
            from.SessionEnds.Remove(end);
            var count = _evictedSoFar[from.Name] = _evictedSoFar.GetValueOrDefault(from.Name) + 1;
            var percent = ReconnectPercent.GetValueOrDefault(from.Name, 100);
            if (count * percent / 100 == (count - 1) * percent / 100)
            {
                continue;
            }

            var to = Nodes
                .Values.Where(n => n != from && n.Running && !OutOfRotation.Contains(n.Name))
                .OrderBy(n => n.LiveSessions(now))
                .ThenBy(n => n.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (to is null)
            {
                continue;
            }

            Reconnects.Add($"{from.Name}->{to.Name}");
            if (ReceiversTakePerSecond is { } pace)
            {
                _nextArrival = (_nextArrival > now ? _nextArrival : now) + TimeSpan.FromSeconds(1.0 / pace);
                _pending.Add((_nextArrival, end, to));
                continue;
            }

            to.SessionEnds.Add(end);
            to.Arrivals++;
        }
    }

    /// <summary>
    /// When set, the serving nodes log reconnecting clients in at this many per second: the others wait their turn.
    /// </summary>
    public int? ReceiversTakePerSecond { get; set; }

    private readonly List<(DateTimeOffset At, DateTimeOffset End, FakeNode To)> _pending = [];
    private DateTimeOffset _nextArrival = DateTimeOffset.MinValue;

    /// <summary>Clients whose turn to log in has come are on their node now.</summary>
    public void Settle()
    {
        var now = Time.GetUtcNow();
        foreach (var arrival in _pending.Where(p => p.At <= now).ToList())
        {
            _pending.Remove(arrival);
            arrival.To.SessionEnds.Add(arrival.End);
            arrival.To.Arrivals++;
        }
    }

    public IEnumerable<FakeNode> InCluster(string cluster) => Nodes.Values.Where(n => n.Cluster == cluster);

    public Membership MembershipSeenBy(FakeNode viewer)
    {
        if (viewer.MembershipOverride is { } forced)
        {
            return forced;
        }

        var members = InCluster(viewer.Cluster).ToList();
        return new Membership(
            members.Where(n => n.Running).Select(n => n.Erlang).ToList(),
            members.Where(n => !n.Running).Select(n => n.Erlang).ToList()
        )
        {
            LocalTables = viewer.Tables,
        };
    }

    /// <summary>A snapshot to compare two runs' end states.</summary>
    public string Describe() =>
        string.Join(
            "\n",
            Nodes
                .Values.OrderBy(n => n.Name, StringComparer.Ordinal)
                .Select(n =>
                    $"{n.Name} running={n.Running} version={n.RunningVersion} installed={n.InstalledVersion} config="
                    + $"{n.Config} cluster={n.Cluster} installs={n.Installs}"
                )
        );
}

public sealed class FakeNode(string name, string erlang)
{
    public string Name { get; } = name;

    public string Erlang { get; } = erlang;

    public bool Running { get; set; } = true;

    public string RunningVersion { get; set; } = "";

    public string InstalledVersion { get; set; } = "";

    public string Config { get; set; } = "config-v1";

    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public string Cluster { get; set; } = "blue";

    /// <summary>The mnesia tables with a copy on this node; null: the product cannot tell.</summary>
    public List<string>? Tables { get; set; }

    /// <summary>The tables the node holds after its next start (a copy dropped or added on the way).</summary>
    public List<string>? TablesAfterStart { get; set; }

    public int Installs { get; set; }

    /// <summary>Times at which the node's current client sessions end by themselves.</summary>
    public List<DateTimeOffset> SessionEnds { get; } = [];

    public bool FailInstall { get; set; }

    /// <summary>The node's session count answers something that is not a number.</summary>
    public bool SessionsAnswerGarbage { get; set; }

    /// <summary>Commands are refused on this node (as when the SSH user may not run them).</summary>
    public bool RefusesCommands { get; set; }

    /// <summary>At its next start the node comes up with this version instead of the installed one.</summary>
    public string? StartsWithVersion { get; set; }

    public Membership? MembershipOverride { get; set; }

    public bool FailStart { get; set; }

    /// <summary>A start that never returns until cancelled (a node that hangs while booting).</summary>
    public bool HangStart { get; set; }

    /// <summary>How long an install takes on the fake clock (none: at once).</summary>
    public TimeSpan? InstallTakes { get; set; }

    /// <summary>How long a start takes on the fake clock (none: at once).</summary>
    public TimeSpan? StartTakes { get; set; }

    /// <summary>Sessions the balancers sent to this node since the test began (their cumulative count).</summary>
    public long Arrivals { get; set; }

    public long LiveSessions(DateTimeOffset now) => SessionEnds.Count(end => end > now);
}
