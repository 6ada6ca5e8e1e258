using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using RollingUpgrade.Cli;
using RollingUpgrade.Journaling;
using RollingUpgrade.State.Postgres;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// The shared state store through the command line, on a real PostgreSQL 15 started by the fixture: runs from
/// processes with different state configurations race for one lease; a holder killed with SIGKILL, stuck (SIGSTOP)
/// or cut off from the database; journals equal to the file journal; history, audit and staging-first; validate.
/// "Another host" is simulated by giving each process its own environment and state options, and where a holder
/// must look remote, by rewriting the lease's host as a remote holder would have written it.
/// </summary>
public sealed class PostgresCliTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new();
    private readonly List<ChildProcess> _children = [];
    private readonly string _env = $"RU_TEST_STATE_{Guid.NewGuid():N}";
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync("127.0.0.1");
        Environment.SetEnvironmentVariable(_env, _server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        foreach (var child in _children)
        {
            Resume(child);
            child.Dispose();
        }

        Environment.SetEnvironmentVariable(_env, null);
        await _server.DisposeAsync();
        _cluster.Dispose();
    }

    /// <summary>A plan on the local cluster whose [state] names the shared store.</summary>
    private string Plan(string install = "sleep 1; echo {version} > {var.dir}/installed", string ttl = "6s")
    {
        var path = _cluster.WritePlan(install);
        File.AppendAllText(path, $"\n[state]\nkind = \"postgres\"\nurl_env = \"{_env}\"\nlease_ttl = \"{ttl}\"\n");
        return path;
    }

    private ChildProcess Start(string[] args, string? workingDirectory = null)
    {
        var child = ChildProcess.Start(
            "dotnet",
            [ProcessLab.CliDll, .. args],
            new Dictionary<string, string> { [_env] = _server.ConnectionString },
            workingDirectory
        );
        _children.Add(child);
        return child;
    }

    private static void Signal(ChildProcess child, string signal)
    {
        using var kill = Process.Start(
            "kill",
            [$"-{signal}", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]
        );
        kill!.WaitForExit();
    }

    private static void Resume(ChildProcess child)
    {
        if (!child.HasExited)
        {
            Signal(child, "CONT");
        }
    }

    private async Task<PostgresStateStore> StoreAsync() =>
        await PostgresStateStore.OpenAsync(_server.ConnectionString, "rollingupgrade");

    private async Task<IReadOnlyList<JournalRecord>> JournalAsync()
    {
        await using var store = await StoreAsync();
        var run = await store.CurrentRunIdAsync("local");
        return run is null ? [] : await store.ReadJournalAsync("local", run);
    }

    /// <summary>Waits until the current run's journal has a step-started record of the given kind.</summary>
    private async Task WaitForStepAsync(string kind, ChildProcess holder)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (
            !(await JournalAsync()).Any(r =>
                r.Type == JournalTypes.StepStarted && r.StepId?.StartsWith(kind, StringComparison.Ordinal) == true
            )
        )
        {
            holder.HasExited.ShouldBeFalse(holder.Output);
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no {kind} step started:\n{holder.Output}");
            await Task.Delay(100);
        }
    }

    private async Task<long> ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task WaitForLeaseExpiryAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await ExecuteAsync("SELECT count(*) FROM rollingupgrade.leases WHERE expires_at > now()") > 0)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the lease never ran out");
            await Task.Delay(200);
        }
    }

    private void AllUpgraded()
    {
        for (var i = 1; i <= _cluster.Nodes; i++)
        {
            _cluster.Version(i).ShouldBe("2.0");
            _cluster.Running(i).ShouldBeTrue();
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Two_processes_with_different_state_options_race_and_exactly_one_runs_the_other_exits_3_naming_it()
    {
        var plan = Plan(install: "sleep 2; echo {version} > {var.dir}/installed");
        var elsewhere = Directory.CreateTempSubdirectory("ru-elsewhere-").FullName;
        try
        {
            // One from the plan's [state], one from the command line, as a CI runner would pass it.
            var a = Start(["run", plan]);
            var b = Start(["run", plan, "--state-url-env", _env, "--state-schema", "rollingupgrade"], elsewhere);
            var codes = new[]
            {
                await a.WaitForExitAsync(TimeSpan.FromSeconds(120)),
                await b.WaitForExitAsync(TimeSpan.FromSeconds(120)),
            };

            codes.Order().ToArray().ShouldBe(new[] { 0, 3 }, a.Output + "\n---\n" + b.Output);
            var (winner, loser) = codes[0] == 0 ? (a, b) : (b, a);
            loser.Output.ShouldContain($"another run holds local: process {winner.Id} on {Environment.MachineName}");
            AllUpgraded();
            (await ExecuteAsync("SELECT count(*) FROM rollingupgrade.runs")).ShouldBe(1, "the loser wrote no run");
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_holder_killed_on_another_host_is_taken_over_only_after_its_lease_expired_and_only_when_asked()
    {
        var plan = Plan(install: "sleep 3; echo {version} > {var.dir}/installed");
        var holder = Start(["run", plan]);
        await WaitForStepAsync("Install", holder);
        Signal(holder, "KILL");
        await holder.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await ExecuteAsync("UPDATE rollingupgrade.leases SET holder_host = 'bastion-2' RETURNING 1");

        var live = await CliRunner.RunAsync("resume", plan, "--take-over-stale-lock");
        live.ExitCode.ShouldBe(3, live.Output + live.Error);
        live.Error.ShouldContain($"another run holds local: process {holder.Id} on bastion-2");

        await WaitForLeaseExpiryAsync();
        var stale = await CliRunner.RunAsync("resume", plan);
        stale.ExitCode.ShouldBe(3, stale.Output + stale.Error);
        stale.Error.ShouldContain($"process {holder.Id} on bastion-2");
        stale.Error.ShouldContain("last seen");
        stale.Error.ShouldContain("its lease ran out at");
        stale.Error.ShouldContain("--take-over-stale-lock");

        // The generic product cannot read an install back: the step in flight is run again.
        var taken = await CliRunner.RunAsync("resume", plan, "--take-over-stale-lock", "--retry-in-flight");
        taken.ExitCode.ShouldBe(0, taken.Output + taken.Error);
        taken.Output.ShouldContain($"from process {holder.Id} on bastion-2");
        taken.Output.ShouldContain("whose lease ran out at");
        AllUpgraded();
        (await ExecuteAsync("SELECT max(epoch) FROM rollingupgrade.leases")).ShouldBe(2);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_holder_killed_on_this_host_is_waited_out_and_resume_continues_once_its_lease_ran_out()
    {
        var plan = Plan(install: "sleep 3; echo {version} > {var.dir}/installed", ttl: "6s");
        var holder = Start(["run", plan]);
        await WaitForStepAsync("Install", holder);
        Signal(holder, "KILL");
        await holder.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        var resumed = await CliRunner.RunAsync("resume", plan, "--retry-in-flight");
        resumed.ExitCode.ShouldBe(0, resumed.Output + resumed.Error);
        resumed.Output.ShouldContain($"held by process {holder.Id} on this host, which no longer runs; waiting");
        resumed.Output.ShouldContain($"took over the run lease of local");
        AllUpgraded();
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(1), "the dead holder's lease was waited out");
    }

    [Fact(Timeout = 240_000)]
    public async Task A_stuck_holder_whose_lease_was_taken_over_writes_nothing_and_stops_itself_with_exit_1()
    {
        var plan = Plan(install: "sleep 3; echo {version} > {var.dir}/installed", ttl: "3s");
        var stuck = Start(["run", plan]);
        await WaitForStepAsync("Install", stuck);
        Signal(stuck, "STOP");
        await WaitForLeaseExpiryAsync();

        var taker = await CliRunner.RunAsync("resume", plan, "--take-over-stale-lock", "--retry-in-flight");
        taker.ExitCode.ShouldBe(0, taker.Output + taker.Error);
        AllUpgraded();
        var written = await ExecuteAsync("SELECT count(*) FROM rollingupgrade.journal WHERE epoch = 1");

        Signal(stuck, "CONT");
        (await stuck.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(1, stuck.Output);
        stuck.Output.ShouldContain("stopped:");
        stuck.Output.ShouldContain("Nothing was touched after the last journalled step");
        (await ExecuteAsync("SELECT count(*) FROM rollingupgrade.journal WHERE epoch = 1")).ShouldBe(
            written,
            "the stale holder wrote nothing after its lease was taken over"
        );
        var last = (await JournalAsync())[^1];
        last.Type.ShouldBe(JournalTypes.RunFinished);
        last.Data!["outcome"].ShouldBe("succeeded");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_lease_taken_away_during_a_drain_wait_ends_the_wait_and_the_run_with_exit_1_writing_nothing()
    {
        var plan = Plan(ttl: "6s");
        File.WriteAllText(
            plan,
            File.ReadAllText(plan)
                .Replace("sessions = \"echo 0\"", "sessions = \"echo 3\"", StringComparison.Ordinal)
                .Replace("timeout = \"5s\"", "timeout = \"2m\"", StringComparison.Ordinal)
        );
        var run = Start(["run", plan]);
        await WaitForStepAsync("WaitDrained", run);

        // Another run took the lease (as after an expiry and --take-over-stale-lock elsewhere). What the run wrote is
        // counted once the lease is gone: until then it may still write (its first drain sample, say).
        await ExecuteAsync(
            "UPDATE rollingupgrade.leases SET epoch = epoch + 1, holder_host = 'laptop-9', "
                + "expires_at = now() + interval '5 minutes' RETURNING 1"
        );
        var written = await ExecuteAsync("SELECT count(*) FROM rollingupgrade.journal");
        var clock = Stopwatch.StartNew();
        (await run.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(1, run.Output);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the 2-minute drain wait ended with the lease");
        // Whichever sees it first says it: the renewal ("could not be renewed") or a journal append the lease fences
        // off during the wait ("is no longer held"); both stop before anything more is written.
        run.Output.ShouldContain("the run lease of local", customMessage: run.Output);
        (
            run.Output.Contains("could not be renewed", StringComparison.Ordinal)
            || run.Output.Contains("is no longer held", StringComparison.Ordinal)
        ).ShouldBeTrue(run.Output);
        run.Output.ShouldContain("Nothing was touched after the last journalled step");
        (await ExecuteAsync("SELECT count(*) FROM rollingupgrade.journal")).ShouldBe(written);
        Enumerable.Range(1, _cluster.Nodes).All(_cluster.Running).ShouldBeTrue("no node was stopped");
    }

    [Fact(Timeout = 240_000)]
    public async Task The_database_stopped_mid_run_halts_it_safely_and_resume_continues_once_it_is_back()
    {
        var plan = Plan(install: "sleep 2; echo {version} > {var.dir}/installed", ttl: "6s");
        var run = Start(["run", plan]);
        await WaitForStepAsync("Install", run);
        await _server.StopAsync();

        (await run.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(1, run.Output);
        run.Output.ShouldContain("stopped:");
        run.Output.ShouldContain("`rollingupgrade resume");
        run.Output.ShouldNotContain("Unhandled exception");
        Enumerable.Range(1, _cluster.Nodes).Count(_cluster.Running).ShouldBeGreaterThanOrEqualTo(2);

        await _server.StartServerAsync();
        var resumed = await CliRunner.RunAsync("resume", plan, "--retry-in-flight");
        resumed.ExitCode.ShouldBe(0, resumed.Output + resumed.Error);
        AllUpgraded();
    }

    [Fact(Timeout = 240_000)]
    public async Task The_journal_in_postgres_holds_the_same_records_as_the_file_journal_of_the_same_run()
    {
        var plan = _cluster.WritePlan();
        var folder = Directory.CreateTempSubdirectory("ru-state-").FullName;
        try
        {
            var onFiles = await CliRunner.RunAsync("run", plan, "--state-dir", folder);
            onFiles.ExitCode.ShouldBe(0, onFiles.Output + onFiles.Error);
            for (var i = 1; i <= _cluster.Nodes; i++)
            {
                File.WriteAllText(Path.Combine(_cluster.NodeDir(i), "version"), "1.0");
                File.WriteAllText(Path.Combine(_cluster.NodeDir(i), "installed"), "1.0");
            }

            var onPostgres = await CliRunner.RunAsync("run", plan, "--state-url-env", _env);
            onPostgres.ExitCode.ShouldBe(0, onPostgres.Output + onPostgres.Error);

            var state = new StateDirectory(folder, "local");
            var file = Journal.Read(state.JournalPath(state.CurrentRunId()!));
            var shared = await JournalAsync();
            Comparable(shared).ShouldBe(Comparable(file));
            shared.Select(r => r.Sequence).ShouldBe(Enumerable.Range(1, shared.Count).Select(n => (long)n));
            string.Join('\n', shared.Select(r => JsonSerializer.Serialize(r))).ShouldNotContain(_server.Password);
            (onPostgres.Output + onPostgres.Error).ShouldNotContain(_server.Password);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // Everything but the times, the run id, the process id and the time mixed versions began is the same.
        static IEnumerable<string> Comparable(IReadOnlyList<JournalRecord> records) =>
            records.Select(r =>
                JsonSerializer.Serialize(
                    new
                    {
                        r.Sequence,
                        r.Type,
                        r.Phase,
                        r.Step,
                        r.StepId,
                        r.Message,
                        Data = r
                            .Data?.Where(kv =>
                                kv.Key != "pid" && !(kv.Key == "value" && r.Data["key"] == "mixed_since")
                            )
                            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                            .ToList(),
                    }
                )
            );
    }

    [Fact(Timeout = 240_000)]
    public async Task History_audit_and_staging_first_work_across_clusters_in_one_database_from_any_folder()
    {
        var staging = new LocalCluster();
        var elsewhere = Directory.CreateTempSubdirectory("ru-elsewhere-").FullName;
        try
        {
            var stagingPlan = Named(staging.WritePlan(), "staging", string.Empty);
            var productionPlan = Named(
                _cluster.WritePlan(extraUpgrade: "from_version = \"1.0\""),
                "production",
                "environment = \"production\"\nrequires_staging = \"staging\"\n"
            );

            var refused = await CliRunner.RunAsync("run", productionPlan);
            refused.ExitCode.ShouldBe(1, refused.Output + refused.Error);
            (refused.Output + refused.Error).ShouldContain("requires a succeeded run of 1.0 -> 2.0 on staging");
            (await CliRunner.RunAsync("plan", productionPlan)).Output.ShouldContain("NOT MET");

            var first = await CliRunner.RunAsync("run", stagingPlan, "--reason", "OPS-7 staging first");
            first.ExitCode.ShouldBe(0, first.Output + first.Error);
            (await CliRunner.RunAsync("plan", productionPlan)).Output.ShouldContain("staging first: met by run");

            var second = await CliRunner.RunAsync("run", productionPlan, "--reason", "OPS-7 production");
            second.ExitCode.ShouldBe(0, second.Output + second.Error);

            // From another folder (another machine: nothing local), with the plan's [state] only.
            var copy = Path.Combine(elsewhere, "production.toml");
            File.Copy(productionPlan, copy);
            var history = ChildProcess.Start(
                "dotnet",
                [ProcessLab.CliDll, "history", copy, "--output", "json"],
                new Dictionary<string, string> { [_env] = _server.ConnectionString },
                elsewhere
            );
            _children.Add(history);
            (await history.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, history.Output);
            var runs = history
                .Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement)
                .ToList();
            runs.Select(r => r.GetProperty("outcome").GetString()).ShouldBe(["halted", "succeeded"]);
            runs[1].GetProperty("reason").GetString().ShouldBe("OPS-7 production");
            runs[1].GetProperty("operator").GetString().ShouldBe($"{Environment.UserName}@{Environment.MachineName}");
            runs[1].GetProperty("from_version").GetString().ShouldBe("1.0");
            Directory.Exists(Path.Combine(elsewhere, ".rollingupgrade")).ShouldBeFalse("nothing is kept locally");

            // The report of a run made on another machine, from the shared journal alone.
            var file = Path.Combine(elsewhere, "production.html");
            var report = ChildProcess.Start(
                "dotnet",
                [ProcessLab.CliDll, "report", copy, "--file", file],
                new Dictionary<string, string> { [_env] = _server.ConnectionString },
                elsewhere
            );
            _children.Add(report);
            (await report.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, report.Output);
            report.Output.ShouldContain($"report: {file}");
            var html = await File.ReadAllTextAsync(file);
            html.ShouldContain("OPS-7 production");
            html.ShouldContain("<span class=\"outcome succeeded\">succeeded</span>");
            html.ShouldContain("<svg id=\"timeline\"");
            html.ShouldNotContain(_server.Password);
            var unknown = await CliRunner.RunAsync("report", copy, "--run", "20990101T000000Z-000000");
            unknown.ExitCode.ShouldBe(2);
            unknown.Error.ShouldContain("no run 20990101T000000Z-000000 of production");

            var status = await CliRunner.RunAsync("status", copy);
            status.Output.ShouldContain("succeeded; ");
            status.Output.ShouldContain("lock: free");
            status.Output.ShouldContain("schema \"rollingupgrade\"");
            status.Output.ShouldNotContain(_server.Password);

            await using var store = await StoreAsync();
            var started = (await store.ReadJournalAsync("production", runs[1].GetProperty("run").GetString()!))[0];
            started.Data!["plan_text"].ShouldBe(File.ReadAllText(productionPlan));
            started.Data["fingerprint"].ShouldNotBeNullOrEmpty();
        }
        finally
        {
            staging.Dispose();
            Directory.Delete(elsewhere, recursive: true);
        }

        string Named(string path, string name, string extra)
        {
            var renamed = Path.Combine(Path.GetDirectoryName(path)!, name + ".toml");
            File.WriteAllText(
                renamed,
                File.ReadAllText(path)
                    .Replace(
                        "[cluster]\nname = \"local\"",
                        $"[cluster]\nname = \"{name}\"\n{extra}",
                        StringComparison.Ordinal
                    ) + $"\n[state]\nkind = \"postgres\"\nurl_env = \"{_env}\"\n"
            );
            return renamed;
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Validate_checks_the_connection_and_the_schema_version_and_never_shows_the_password()
    {
        var plan = Plan();
        var fresh = await CliRunner.RunAsync("validate", plan);
        fresh.ExitCode.ShouldBe(0, fresh.Output + fresh.Error);
        fresh.Output.ShouldContain("reachable; the schema does not exist yet");
        (await ExecuteAsync("SELECT count(*) FROM pg_namespace WHERE nspname = 'rollingupgrade'")).ShouldBe(
            0,
            "validate creates nothing"
        );

        (await CliRunner.RunAsync("history", plan)).ExitCode.ShouldBe(0);
        var current = await CliRunner.RunAsync("validate", plan);
        current.Output.ShouldContain($"schema version {PostgresStateStore.SchemaVersion}");

        await ExecuteAsync("INSERT INTO rollingupgrade.schema_version VALUES (99) RETURNING 1");
        var newer = await CliRunner.RunAsync("validate", plan);
        newer.ExitCode.ShouldBe(2);
        newer.Error.ShouldContain("version 99, newer than this rollingupgrade knows");
        var run = await CliRunner.RunAsync("run", plan);
        run.ExitCode.ShouldBe(2, run.Output + run.Error);
        run.Error.ShouldContain("nothing was touched");

        var wrong = $"RU_TEST_WRONG_{Guid.NewGuid():N}";
        var secret = "not-the-password-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(
            wrong,
            new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Password = secret }.ConnectionString
        );
        try
        {
            var denied = await CliRunner.RunAsync("validate", plan, "--state-url-env", wrong);
            denied.ExitCode.ShouldBe(2);
            denied.Error.ShouldContain("cannot be used");
            (denied.Output + denied.Error).ShouldNotContain(secret);
        }
        finally
        {
            Environment.SetEnvironmentVariable(wrong, null);
        }

        // The server echoes a database name it does not know: here the name is the password itself, so the message
        // reaches the tool with the password in it, and only the redactor keeps it off the screen.
        var echoed = $"RU_TEST_ECHO_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(
            echoed,
            new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = _server.Password }.ConnectionString
        );
        try
        {
            var missing = await CliRunner.RunAsync("validate", plan, "--state-url-env", echoed);
            missing.ExitCode.ShouldBe(2);
            missing.Error.ShouldContain("database \"***\" does not exist");
            (missing.Output + missing.Error).ShouldNotContain(_server.Password);
        }
        finally
        {
            Environment.SetEnvironmentVariable(echoed, null);
        }

        var unset = await CliRunner.RunAsync("validate", plan, "--state-url-env", "RU_TEST_NEVER_SET");
        unset.ExitCode.ShouldBe(2);
        unset.Error.ShouldContain("RU_TEST_NEVER_SET (the state store's connection string) is not set");
        var both = await CliRunner.RunAsync("run", plan, "--state-dir", "/tmp/x");
        both.ExitCode.ShouldBe(2);
        both.Error.ShouldContain("--state-dir is for the file state store");
    }
}
