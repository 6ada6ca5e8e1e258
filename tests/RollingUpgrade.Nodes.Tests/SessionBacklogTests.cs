using RollingUpgrade.Nodes.Products;

namespace RollingUpgrade.Tests;

/// <summary>
/// A node with many sessions is evicted from a listing taken once and reused across the drain's ticks, several kicks
/// at once, and no session is ended or counted twice (ejabberd and MongooseIM list the whole cluster each time).
/// </summary>
public sealed class SessionBacklogTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A node's sessions: a kicked one stays listed until its client has closed (after a tick here).</summary>
    private sealed class Node(int sessions)
    {
        private readonly object _gate = new();
        private readonly HashSet<string> _open = Enumerable
            .Range(0, sessions)
            .Select(i => $"u{i}@x/r")
            .ToHashSet(StringComparer.Ordinal);
        private readonly HashSet<string> _closing = new(StringComparer.Ordinal);
        private int _running;

        public int Listings { get; private set; }

        public int Kicks { get; private set; }

        public int MostAtOnce { get; private set; }

        public int Open
        {
            get
            {
                lock (_gate)
                {
                    return _open.Count;
                }
            }
        }

        public void Add(string jid)
        {
            lock (_gate)
            {
                _open.Add(jid);
            }
        }

        public Task<IEnumerable<string>?> ListAsync(CancellationToken _)
        {
            lock (_gate)
            {
                Listings++;
                return Task.FromResult<IEnumerable<string>?>(_open.Order(StringComparer.Ordinal).ToList());
            }
        }

        public async Task<bool> KickAsync(string jid, CancellationToken _)
        {
            lock (_gate)
            {
                Kicks++;
                MostAtOnce = Math.Max(MostAtOnce, ++_running);
            }

            await Task.Delay(2);
            lock (_gate)
            {
                _running--;
                return _open.Contains(jid) && _closing.Add(jid);
            }
        }

        /// <summary>The clients kicked so far close their connections.</summary>
        public void CloseKicked()
        {
            lock (_gate)
            {
                _open.ExceptWith(_closing);
                _closing.Clear();
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Ten_thousand_sessions_at_500_a_tick_are_listed_twice_and_each_kicked_once()
    {
        var clock = new Clock();
        var backlog = new SessionBacklog<string>(clock, jid => jid);
        var node = new Node(10_000);
        long ended = 0;

        for (var tick = 0; tick < 20; tick++)
        {
            ended += (
                await backlog.EvictAsync("n1", 500, 8, node.ListAsync, node.KickAsync, CancellationToken.None)
            )!.Value;
            clock.Now += TimeSpan.FromSeconds(1);
        }

        ended.ShouldBe(10_000);
        node.Kicks.ShouldBe(10_000);
        node.Listings.ShouldBe(2); // at 0 s, and at 10 s when the listing is too old to trust
        node.MostAtOnce.ShouldBe(8);
        (await backlog.EvictAsync("n1", 500, 8, node.ListAsync, node.KickAsync, CancellationToken.None)).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_session_kicked_but_still_listed_is_not_kicked_or_counted_again()
    {
        var clock = new Clock();
        var backlog = new SessionBacklog<string>(clock, jid => jid);
        var node = new Node(10);

        // Each tick's share uses the listing up; the next tick lists again while the kicked clients are closing.
        var first = await backlog.EvictAsync("n1", 10, 4, node.ListAsync, node.KickAsync, CancellationToken.None);
        clock.Now += TimeSpan.FromSeconds(1);
        var second = await backlog.EvictAsync("n1", 10, 4, node.ListAsync, node.KickAsync, CancellationToken.None);

        first.ShouldBe(10);
        second.ShouldBe(0);
        node.Kicks.ShouldBe(10);
        node.Listings.ShouldBe(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_session_still_there_long_after_its_kick_is_kicked_again_and_new_ones_are_found()
    {
        var clock = new Clock();
        var backlog = new SessionBacklog<string>(clock, jid => jid);
        var node = new Node(3);
        await backlog.EvictAsync("n1", 10, 4, node.ListAsync, node.KickAsync, CancellationToken.None);
        node.Add("late@x/r"); // logged in through a balancer that had not yet been drained

        clock.Now += SessionBacklog<string>.ListingLifetime;
        var soon = await backlog.EvictAsync("n1", 10, 4, node.ListAsync, node.KickAsync, CancellationToken.None);
        clock.Now += SessionBacklog<string>.Closing - TimeSpan.FromSeconds(1);
        var later = await backlog.EvictAsync("n1", 10, 4, node.ListAsync, node.KickAsync, CancellationToken.None);

        soon.ShouldBe(1); // only the new one: the three kicked are still closing
        node.Kicks.ShouldBe(3 + 1 + 3); // ...and after Closing, the three that never closed are kicked once more
        later.ShouldBe(0); // the fake node counts a second kick of the same session as nothing ended
    }

    [Fact(Timeout = 60_000)]
    public async Task Nodes_have_their_own_backlogs_and_a_node_that_cannot_list_says_so()
    {
        var clock = new Clock();
        var backlog = new SessionBacklog<string>(clock, jid => jid);
        var one = new Node(5);
        var two = new Node(7);

        var fromOne = await backlog.EvictAsync("n1", 100, 4, one.ListAsync, one.KickAsync, CancellationToken.None);
        var fromTwo = await backlog.EvictAsync("n2", 100, 4, two.ListAsync, two.KickAsync, CancellationToken.None);
        var cannot = await backlog.EvictAsync(
            "n3",
            100,
            4,
            _ => Task.FromResult<IEnumerable<string>?>(null),
            (_, _) => Task.FromResult(true),
            CancellationToken.None
        );
        var nothingAsked = await backlog.EvictAsync("n1", 0, 4, one.ListAsync, one.KickAsync, CancellationToken.None);

        fromOne.ShouldBe(5);
        fromTwo.ShouldBe(7);
        cannot.ShouldBeNull();
        nothingAsked.ShouldBe(0);
        one.Listings.ShouldBe(1); // a share of 0 lists nothing
        one.CloseKicked();
        one.Open.ShouldBe(0);
    }
}
