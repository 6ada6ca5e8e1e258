using RollingUpgrade.Cli;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// A rolling upgrade of a real ejabberd cluster under client load: every node upgraded once, zero failed client
/// operations, each drain proven at HAProxy (no new session after it), each eviction's clients seen back on the
/// serving nodes, and no client that reached the new version sent back to an old node.
/// </summary>
[Collection("harness")]
public sealed class RollingTakeoverUnderLoadTests(ITestOutputHelper output) : EjabberdUnderLoadTests(output)
{
    /// <summary>
    /// Round robin, as many XMPP deployments balance: without version affinity it would send some of the clients
    /// evicted from the second node to the third, still old, and cut them again there.
    /// </summary>
    protected override string XmppBalance => "roundrobin";

    [Fact(Timeout = 300_000)]
    public async Task Every_node_is_upgraded_once_in_order_with_zero_failed_client_operations()
    {
        var plan = Harness.WritePlan(RepositoryRoot());

        var (code, stdout, _) = await RunAsync(plan);
        await Task.Delay(3000);
        await Load.StopAsync();
        Output.WriteLine(Load.Summary());

        code.ShouldBe(0);
        for (var i = 1; i <= 3; i++)
        {
            (await Harness.Cluster.CtlAsync(i, "status")).Output.ShouldContain("ejabberd 24.0 is running");
        }

        var journal = Journal.Read(
            Directory
                .GetFiles(Path.Combine(Harness.Folder, ".rollingupgrade", "ejabberd-local", "runs"), "*.jsonl")
                .Single()
        );
        journal
            .Where(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("Start:", StringComparison.Ordinal)
            )
            .Select(r => r.StepId)
            .ShouldBe(["Start:ej1", "Start:ej2", "Start:ej3"]);
        journal
            .Count(r =>
                r.Type == JournalTypes.StepSucceeded && r.StepId!.StartsWith("VerifyNode:", StringComparison.Ordinal)
            )
            .ShouldBe(3);
        journal
            .Count(r => r.Type == JournalTypes.StepStarted)
            .ShouldBe(journal.Count(r => r.Type == JournalTypes.StepSucceeded));
        journal.Last().Data!["outcome"].ShouldBe("succeeded");

        // Each drain proven at HAProxy: its cumulative session count for the node stopped growing, and the time from
        // the drain to its last new session is journalled (none arrives after a runtime-API drain).
        var propagation = journal.Where(r => r.Type == JournalTypes.Propagation).Select(r => r.Data!).ToList();
        propagation.Select(d => d["node"]).ShouldBe(["ej1", "ej2", "ej3"]);
        propagation.ShouldAllBe(d => d["load_balancer"] == "haproxy");
        propagation.ShouldAllBe(d => d["new_sessions"] == "0");
        stdout.ShouldContain("ej1: haproxy sent it no new session after the drain (3 readings)");

        // Each node's evicted clients came back on the serving nodes: at least 99% (here every one), as ejabberd's
        // own session counts show.
        var takeovers = journal.Where(r => r.Type == JournalTypes.Takeover).Select(r => r.Data!).ToList();
        takeovers.Select(d => d["node"]).ShouldBe(["ej1", "ej2", "ej3"]);
        foreach (var takeover in takeovers)
        {
            takeover["passed"].ShouldBe("true");
            var evicted = long.Parse(takeover["evicted"], System.Globalization.CultureInfo.InvariantCulture);
            var back = long.Parse(takeover["reestablished"], System.Globalization.CultureInfo.InvariantCulture);
            evicted.ShouldBeGreaterThan(0);
            ((double)back / evicted).ShouldBeGreaterThanOrEqualTo(0.99, string.Join(", ", takeover));
        }

        stdout.ShouldContain("SUCCEEDED");

        // Version affinity: after ej1 is back on 24.0, ej2 and ej3 took no new sessions (and after ej2, ej3 none), so
        // no client that reached 24.0 was sent back to 23.01, and none was cut more than twice.
        journal
            .Where(r =>
                r.Type == JournalTypes.StepSucceeded
                && r.StepId!.StartsWith("PreferUpgraded:", StringComparison.Ordinal)
            )
            .Select(r => r.StepId)
            .ShouldBe(["PreferUpgraded:ej2+ej3:haproxy", "PreferUpgraded:ej3:haproxy"]);
        var affinityFrom = journal
            .First(r =>
                r.Type == JournalTypes.StepSucceeded
                && r.StepId!.StartsWith("PreferUpgraded:", StringComparison.Ordinal)
            )
            .At;
        var logins = Load.Events.Where(e => e.Operation == LoadOperations.Login && e.Succeeded).ToList();
        // Each client saw the version of the node it landed on (XEP-0092): the check below is not vacuous.
        logins.ShouldAllBe(l => l.Detail == "23.01" || l.Detail == "24.0");
        logins.ShouldContain(l => l.Detail == "24.0");
        foreach (var client in logins.GroupBy(l => l.Client))
        {
            var seen = client.OrderBy(l => l.At).Select(l => l.Detail).ToList();
            seen.SkipWhile(v => v != "24.0")
                .ShouldAllBe(v => v == "24.0", $"client {client.Key} landed on {string.Join(" -> ", seen)}");
        }

        foreach (var login in logins)
        {
            // The balancer chose the node when the client connected: a connection made after the old nodes were held
            // reached an upgraded node.
            var connected = Load
                .Events.Where(e =>
                    e.Client == login.Client && e.Operation == LoadOperations.Connect && e.Succeeded && e.At <= login.At
                )
                .MaxBy(e => e.At);
            if (connected is not null && connected.At > affinityFrom)
            {
                login.Detail.ShouldBe("24.0", $"client {login.Client} connected at {connected.At:HH:mm:ss.fff}");
            }
        }

        Load.Failed(LoadOperations.Connect).ShouldBe(0);
        Load.Failed(LoadOperations.Login).ShouldBe(0);
        Load.Failed(LoadOperations.Http).ShouldBe(0);
        Load.Failed(LoadOperations.Ping).ShouldBe(0);
        Load.Attempted(LoadOperations.Http).ShouldBeGreaterThan(100);
        var cuts = Load.Events.Where(e => e.Operation == LoadOperations.Disconnect).ToList();
        cuts.ShouldNotBeEmpty();
        // Each client cut once when its node was upgraded, and a second time only if its first cut came before any
        // node could take it on 24.0 (ej1's clients had only old nodes to go to): clients x (N + 1) / N cuts at most.
        foreach (var client in cuts.GroupBy(c => c.Client))
        {
            client.Count().ShouldBeLessThanOrEqualTo(2, $"client {client.Key} was cut {client.Count()} times");
            if (client.Count() == 2)
            {
                client.Min(c => c.At).ShouldBeLessThan(affinityFrom, $"client {client.Key} was cut twice after ej1");
            }
        }

        // Evicted through ejabberd (kick_session): a stream error and a clean close, never a bare TCP cut,
        // at the plan's pace (5/s). The cuts of one node's drain form a burst apart from the next node's;
        // k cuts at 5/s span (k - 1) / 5 s, and even with the clients' own timing noise at least half of that.
        cuts.ShouldAllBe(c => c.Detail == "stream-close");
        var ordered = cuts.OrderBy(c => c.At).ToList();
        var bursts = new List<List<DateTimeOffset>> { new() { ordered[0].At } };
        foreach (var cut in ordered.Skip(1))
        {
            if (cut.At - bursts[^1][^1] > TimeSpan.FromSeconds(3))
            {
                bursts.Add([]);
            }

            bursts[^1].Add(cut.At);
        }

        foreach (var burst in bursts.Where(b => b.Count >= 5))
        {
            (burst[^1] - burst[0]).ShouldBeGreaterThanOrEqualTo(
                TimeSpan.FromSeconds((burst.Count - 1) / 5.0 * 0.5),
                $"{burst.Count} cuts within {(burst[^1] - burst[0]).TotalMilliseconds:0} ms: not paced at 5/s"
            );
        }
        foreach (var cut in cuts)
        {
            Load.Events.ShouldContain(
                e => e.Client == cut.Client && e.Operation == LoadOperations.Login && e.Succeeded && e.At > cut.At,
                $"client {cut.Client} cut at {cut.At:HH:mm:ss.fff} never logged in again"
            );
        }

        (await Harness.ServerStatusAsync("be_xmpp")).Values.ShouldAllBe(s => s == "UP");
    }
}
