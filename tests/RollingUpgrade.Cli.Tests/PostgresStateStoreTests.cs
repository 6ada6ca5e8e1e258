using System.Text.Json;
using Npgsql;
using RollingUpgrade.Journaling;
using RollingUpgrade.State.Postgres;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The PostgreSQL state store against a real PostgreSQL 15 started by the fixture: versioned schema, run leases with
/// epochs (live never stolen, expired taken over only when asked, released free), journal appends fenced by the
/// epoch in the same statement, and a server that goes away and comes back.
/// </summary>
public sealed class PostgresStateStoreTests : IAsyncLifetime
{
    private PostgresServer _server = null!;

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync("127.0.0.1");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<PostgresStateStore> OpenAsync(string schema = "rollingupgrade") =>
        PostgresStateStore.OpenAsync(_server.ConnectionString, schema);

    private static LeaseHolder Holder(string host, string run) => new("ops", host, 4242, run);

    private static JournalRecord Record(string run, long seq, string type) =>
        new()
        {
            Sequence = seq,
            At = new DateTimeOffset(2026, 11, 29, 12, 0, (int)seq, TimeSpan.Zero),
            Type = type,
            RunId = run,
            Step = (int)seq,
            Message = $"record {seq}",
            Data = new() { ["k"] = "v \"quoted\" ünïcode" },
        };

    [Fact(Timeout = 120_000)]
    public async Task A_live_lease_is_never_taken_and_a_released_one_is_free_with_a_higher_epoch()
    {
        await using var store = await OpenAsync();

        var first = await store.AcquireAsync("prod", Holder("bastion-1", "r1"), TimeSpan.FromMinutes(1), false);
        var second = await store.AcquireAsync("prod", Holder("laptop-2", "r2"), TimeSpan.FromMinutes(1), true);

        first.Lease.ShouldNotBeNull();
        first.Lease.Epoch.ShouldBe(1);
        second.Lease.ShouldBeNull("a live lease is never stolen, even with take-over");
        second.Holder!.Holder.Host.ShouldBe("bastion-1");
        second.Holder.Expired.ShouldBeFalse();

        await first.Lease.ReleaseAsync();
        var third = await store.AcquireAsync("prod", Holder("laptop-2", "r2"), TimeSpan.FromMinutes(1), false);
        third.Lease!.Epoch.ShouldBe(2);
    }

    [Fact(Timeout = 120_000)]
    public async Task Racing_holders_get_exactly_one_lease()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => OpenAsync()));
        try
        {
            var attempts = await Task.WhenAll(
                stores.Select(
                    (s, i) => s.AcquireAsync("race", Holder($"host-{i}", $"r{i}"), TimeSpan.FromMinutes(1), true)
                )
            );

            attempts.Count(a => a.Lease is not null).ShouldBe(1);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task An_expired_lease_is_taken_over_only_when_asked_and_the_old_holder_can_write_nothing()
    {
        await using var store = await OpenAsync();
        var old = (await store.AcquireAsync("prod", Holder("dead-host", "r1"), TimeSpan.FromSeconds(1), false)).Lease!;
        await store.AppendAsync(old, Record("r1", 1, JournalTypes.RunStarted));
        await Task.Delay(1500);

        var polite = await store.AcquireAsync("prod", Holder("bastion", "r1"), TimeSpan.FromMinutes(1), false);
        polite.Lease.ShouldBeNull();
        polite.Holder!.Expired.ShouldBeTrue();
        polite.Holder.Holder.Host.ShouldBe("dead-host");
        var taken = (await store.AcquireAsync("prod", Holder("bastion", "r1"), TimeSpan.FromMinutes(1), true)).Lease!;
        taken.Epoch.ShouldBe(old.Epoch + 1);

        // The old holder wakes up: its renewal fails and its append is refused by the database, writing nothing.
        (await old.RenewAsync()).ShouldBeFalse();
        old.Lost.ShouldBeTrue();
        var refused = await Should.ThrowAsync<LeaseLostException>(() =>
            store.AppendAsync(old, Record("r1", 2, JournalTypes.StepStarted))
        );
        refused.Message.ShouldContain("nothing was written");
        await store.AppendAsync(taken, Record("r1", 2, JournalTypes.RunResumed));
        (await store.ReadJournalAsync("prod", "r1"))
            .Select(r => r.Type)
            .ShouldBe([JournalTypes.RunStarted, JournalTypes.RunResumed]);
        (await taken.RenewAsync()).ShouldBeTrue();
    }

    [Fact(Timeout = 120_000)]
    public async Task Journal_records_come_back_in_order_and_identical_to_what_the_file_journal_writes()
    {
        await using var store = await OpenAsync();
        var lease = (await store.AcquireAsync("prod", Holder("h", "r9"), TimeSpan.FromMinutes(1), false)).Lease!;
        var records = Enumerable.Range(1, 20).Select(i => Record("r9", i, JournalTypes.StepSucceeded)).ToList();
        foreach (var record in records)
        {
            await store.AppendAsync(lease, record);
        }

        await store.SetCurrentAsync(lease, "r9");

        var back = await store.ReadJournalAsync("prod", "r9");
        back.Select(r => JsonSerializer.Serialize(r)).ShouldBe(records.Select(r => JsonSerializer.Serialize(r)));
        (await store.CurrentRunIdAsync("prod")).ShouldBe("r9");
        (await store.RunIdsAsync("prod")).ShouldBe(["r9"]);
        // A sequence number written twice is refused, never a second record.
        var twice = await Should.ThrowAsync<JournalUnavailableException>(() => store.AppendAsync(lease, records[0]));
        twice.InnerException.ShouldBeOfType<PostgresException>();
        (await store.ReadJournalAsync("prod", "r9")).Count.ShouldBe(records.Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task Runs_begun_in_the_same_second_are_listed_in_the_order_they_began()
    {
        await using var store = await OpenAsync();
        // Run ids name their start to the second, then a random suffix: this pair sorts against its order.
        string[] ids = ["20261201T001500Z-ffffff", "20261201T001500Z-000000"];
        foreach (var id in ids)
        {
            var lease = (await store.AcquireAsync("prod", Holder("h", id), TimeSpan.FromMinutes(1), false)).Lease!;
            await store.AppendAsync(lease, Record(id, 1, JournalTypes.RunStarted));
            await lease.ReleaseAsync();
        }

        (await store.RunIdsAsync("prod")).ShouldBe(ids);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_schema_is_created_once_and_a_newer_one_is_refused_with_both_versions()
    {
        await using (var first = await OpenAsync("team_state"))
        {
            first.Schema.ShouldBe("team_state");
        }

        await using (var again = await OpenAsync("team_state"))
        {
            again.Schema.ShouldBe("team_state");
        }

        await using (var connection = new NpgsqlConnection(_server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var bump = new NpgsqlCommand("INSERT INTO team_state.schema_version VALUES (7)", connection);
            await bump.ExecuteNonQueryAsync();
        }

        var refused = await Should.ThrowAsync<StateSchemaException>(() => OpenAsync("team_state"));
        refused.Message.ShouldContain("version 7, newer than this rollingupgrade knows (2)");
        Should.Throw<ArgumentException>(() => OpenAsync("x\"; DROP SCHEMA public; --").GetAwaiter().GetResult());
    }

    [Fact(Timeout = 180_000)]
    public async Task A_server_that_goes_away_loses_the_lease_and_the_state_is_there_when_it_comes_back()
    {
        await using var store = await OpenAsync();
        var lease = (await store.AcquireAsync("prod", Holder("h", "r5"), TimeSpan.FromSeconds(30), false)).Lease!;
        await store.AppendAsync(lease, Record("r5", 1, JournalTypes.RunStarted));

        await _server.StopAsync();
        (await lease.RenewAsync()).ShouldBeFalse("an unreachable database counts as a lost lease");
        var unwritten = await Should.ThrowAsync<JournalUnavailableException>(() =>
            store.AppendAsync(lease, Record("r5", 2, JournalTypes.StepStarted))
        );
        unwritten.Message.ShouldContain("the journal could not be written to the state database");
        unwritten.InnerException.ShouldBeAssignableTo<NpgsqlException>();
        await _server.StartServerAsync();

        (await store.ReadJournalAsync("prod", "r5")).Count.ShouldBe(1);
        var info = await store.LeaseAsync("prod");
        info!.Holder.RunId.ShouldBe("r5");
        info.Expired.ShouldBeFalse("the lease row outlives the outage; it runs out at its own time");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_PostgreSQL_journal_stamps_and_redacts_records_exactly_as_the_file_journal_does()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(
            new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero)
        );
        var redactor = new SecretRedactor();
        redactor.Add("s3cr3t-token");
        var inputs = Enumerable
            .Range(1, 5)
            .Select(i => new JournalRecord
            {
                Type = JournalTypes.StepSucceeded,
                Step = i,
                Message = $"step {i} used s3cr3t-token",
                Data = new() { ["header"] = "Bearer s3cr3t-token" },
            })
            .ToList();
        var folder = Directory.CreateTempSubdirectory("ru-journal-").FullName;
        try
        {
            var path = Path.Combine(folder, "r7.jsonl");
            using (var file = Journal.Open(path, clock, redactor))
            {
                inputs.ForEach(r => file.Append(r));
            }

            await using var store = await OpenAsync();
            var lease = (await store.AcquireAsync("prod", Holder("h", "r7"), TimeSpan.FromMinutes(1), false)).Lease!;
            var first = await PostgresJournal.OpenAsync(store, lease, "r7", clock, redactor);
            inputs.Take(3).ToList().ForEach(r => first.Append(r));
            // Reopened (a resume), it goes on after the last record.
            var again = await PostgresJournal.OpenAsync(store, lease, "r7", clock, redactor);
            inputs.Skip(3).ToList().ForEach(r => again.Append(r));

            var fromFile = Journal.Read(path).Select(r => JsonSerializer.Serialize(r)).ToList();
            var fromPostgres = (await store.ReadJournalAsync("prod", "r7")).Select(r => JsonSerializer.Serialize(r));
            fromPostgres.ShouldBe(fromFile);
            fromFile.ShouldAllBe(line => !line.Contains("s3cr3t-token"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<bool> WaitAsync(CancellationToken token, TimeSpan timeout)
    {
        try
        {
            await Task.Delay(timeout, token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task The_keeper_renews_a_lease_past_its_ttl_and_says_lost_when_another_holder_takes_it()
    {
        await using var store = await OpenAsync();
        var ttl = TimeSpan.FromSeconds(3);
        var lease = (await store.AcquireAsync("prod", Holder("h1", "r1"), ttl, false)).Lease!;
        await using var keeper = new LeaseKeeper(lease, ttl);

        (await WaitAsync(keeper.Lost, TimeSpan.FromSeconds(5))).ShouldBeFalse("renewed every second");
        (await store.LeaseAsync("prod"))!.Expired.ShouldBeFalse("5 s after a 3 s lease was taken");
        (await store.AcquireAsync("prod", Holder("h2", "r2"), ttl, true)).Lease.ShouldBeNull("it is live");

        // A holder paused past its expiry (a suspended laptop): another takes the lease over.
        await using (var connection = new NpgsqlConnection(_server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var expire = new NpgsqlCommand(
                "UPDATE rollingupgrade.leases SET expires_at = now() WHERE cluster = 'prod'",
                connection
            );
            await expire.ExecuteNonQueryAsync();
        }

        (await store.AcquireAsync("prod", Holder("h2", "r2"), ttl, true)).Lease!.Epoch.ShouldBe(lease.Epoch + 1);
        (await WaitAsync(keeper.Lost, TimeSpan.FromSeconds(5))).ShouldBeTrue("the next renewal fails");
        keeper.Reason.ShouldNotBeNull().ShouldContain("could not be renewed");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_keeper_says_lost_when_the_database_goes_away()
    {
        await using var store = await OpenAsync();
        var ttl = TimeSpan.FromSeconds(3);
        var lease = (await store.AcquireAsync("prod", Holder("h1", "r1"), ttl, false)).Lease!;
        await using var keeper = new LeaseKeeper(lease, ttl);

        await _server.StopAsync();

        (await WaitAsync(keeper.Lost, TimeSpan.FromSeconds(10))).ShouldBeTrue();
        await _server.StartServerAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_version_1_schema_is_migrated_to_version_2_keeping_its_leases_and_journals()
    {
        await using (var store = await OpenAsync("old_team"))
        {
            var lease = (
                await store.AcquireAsync("prod", Holder("bastion-1", "r1"), TimeSpan.FromMinutes(1), false)
            ).Lease!;
            await store.AppendAsync(lease, Record("r1", 1, JournalTypes.RunStarted));
        }

        // What version 1 was: no holder identity, no requests, version row 1 only.
        await using (var connection = new NpgsqlConnection(_server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var downgrade = new NpgsqlCommand(
                "DROP TABLE old_team.requests; ALTER TABLE old_team.leases DROP COLUMN holder_boot, "
                    + "DROP COLUMN holder_start; DELETE FROM old_team.schema_version WHERE version = 2",
                connection
            );
            await downgrade.ExecuteNonQueryAsync();
        }

        (await PostgresStateStore.CheckAsync(_server.ConnectionString, "old_team")).ShouldBe(1);
        await using var migrated = await OpenAsync("old_team");
        (await PostgresStateStore.CheckAsync(_server.ConnectionString, "old_team")).ShouldBe(2);
        (await migrated.LeaseAsync("prod"))!.Holder.Host.ShouldBe("bastion-1");
        (await migrated.ReadJournalAsync("prod", "r1")).Count.ShouldBe(1);
        await migrated.RequestAsync("prod", "promote", "50", "ops@laptop");
        (await migrated.ReadRequestAsync("prod", "promote")).ShouldBe("50");
    }

    [Fact(Timeout = 120_000)]
    public async Task Requests_from_other_processes_reach_the_store_and_are_cleared_and_its_reads_survive_a_restart()
    {
        await using var store = await OpenAsync();
        (await store.ReadRequestAsync("prod", "rollback")).ShouldBeNull();
        await store.RequestAsync("prod", "promote", "25", "ops@laptop");
        await store.RequestAsync("prod", "promote", "50", "ops@bastion");
        await store.RequestAsync("stage", "rollback", "now", "ops@bastion");

        (await store.ReadRequestAsync("prod", "promote")).ShouldBe("50", "the latest request wins");
        (await store.ReadRequestAsync("prod", "rollback")).ShouldBeNull("requests are per cluster");

        await _server.StopAsync();
        await _server.StartServerAsync();
        (await store.ReadRequestAsync("stage", "rollback")).ShouldBe("now");
        await store.ClearRequestAsync("prod", "promote");
        (await store.ReadRequestAsync("prod", "promote")).ShouldBeNull();
    }
}
