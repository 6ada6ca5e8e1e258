using System.Diagnostics;
using System.Globalization;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// The rolling upgrade of the local ejabberd cluster under load, three ways, each on a fresh
/// harness: (1) the physical floor, every action done directly and timed; (2) `rollingupgrade run`
/// as its own process; (3) an Ansible playbook (community.general.haproxy, serial 1), if
/// ansible-playbook is installed. Same load each time: 30 XMPP clients, 20 HTTP requests/s.
/// </summary>
internal static class RollingUpgradeBench
{
    private const int Clients = 30;

    /// <summary>The version the harness's upgrade installs.</summary>
    private const string Target = "24.0";

    public static async Task<int> RunAsync(string repositoryRoot, bool withAnsible = true, string? json = null)
    {
        var floor = await MeasureAsync("floor", "5", h => FloorAsync(h));
        var orchestrator = await MeasureAsync("rollingupgrade", "5", h => OrchestratorAsync(h, repositoryRoot));
        var auto = await MeasureAsync(
            "rollingupgrade auto pace",
            "auto",
            h => OrchestratorAsync(h, repositoryRoot, autoPace: true)
        );
        // Round robin, as many XMPP deployments balance: whether evicted clients are sent back to old nodes then
        // depends on version affinity, not on leastconn's choice.
        var roundRobinOff = await MeasureAsync(
            "rollingupgrade round robin, affinity off",
            "5",
            h => OrchestratorAsync(h, repositoryRoot, affinity: false),
            "roundrobin"
        );
        var roundRobin = await MeasureAsync(
            "rollingupgrade round robin",
            "5",
            h => OrchestratorAsync(h, repositoryRoot),
            "roundrobin"
        );
        Result? ansibleDrain = null;
        Result? ansibleShutdown = null;
        if (withAnsible && File.Exists("/usr/bin/ansible-playbook"))
        {
            ansibleDrain = await MeasureAsync(
                "ansible drain",
                "5",
                h => AnsibleAsync(h, repositoryRoot, shutdownSessions: false)
            );
            ansibleShutdown = await MeasureAsync(
                "ansible shutdown_sessions",
                "none",
                h => AnsibleAsync(h, repositoryRoot, shutdownSessions: true)
            );
        }

        var results = new[] { floor, orchestrator, auto, roundRobinOff, roundRobin, ansibleDrain, ansibleShutdown }
            .OfType<Result>()
            .ToList();
        Console.WriteLine();
        Console.WriteLine(
            "| way | wall time | exit | CPU (with children) | ops attempted | ops failed | sessions cut (clean/bare) | "
                + "clients cut twice | sent back to the old version | back after a cut | peak reconnects/s |"
        );
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine(
                $"| {r.Name} | {r.Wall.TotalSeconds:0.0} s | {r.ExitCode} | "
                    + $"{(r.Cpu is { } cpu ? $"{cpu.TotalSeconds:0.00} s" : "-")} | {r.Attempted} | {r.Failed} | "
                    + $"{r.Cuts} ({r.Clean}/{r.Bare}) | {r.CutTwice} | {r.SentBack} | {r.TakeoverRatio:P1} | "
                    + $"{r.PeakReconnects} |"
            );
        }

        Console.WriteLine();
        Console.WriteLine($"rollingupgrade / floor = {orchestrator.Wall.TotalSeconds / floor.Wall.TotalSeconds:0.00}");
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, Summary(results, floor));
            Console.WriteLine($"summary: {json}");
        }

        return 0;
    }

    /// <summary>The figures of every way as JSON, for docs/benchmarks.md and for comparing runs.</summary>
    private static string Summary(IReadOnlyList<Result> results, Result floor) =>
        System.Text.Json.JsonSerializer.Serialize(
            results.Select(r => new Dictionary<string, object?>
            {
                ["way"] = r.Name,
                ["clients"] = Clients,
                ["exit_code"] = r.ExitCode,
                ["failed_ops"] = r.Failed,
                ["attempted_ops"] = r.Attempted,
                ["sessions_cut"] = r.Cuts,
                ["clean_cuts"] = r.Clean,
                ["clients_cut_twice"] = r.CutTwice,
                ["clients_sent_back"] = r.SentBack,
                ["takeover_ratio"] = Math.Round(r.TakeoverRatio, 4),
                ["peak_reconnects_per_s"] = r.PeakReconnects,
                ["planned_pace"] = r.Pace,
                ["wall_s"] = Math.Round(r.Wall.TotalSeconds, 2),
                ["floor_s"] = Math.Round(floor.Wall.TotalSeconds, 2),
                ["cpu_s"] = r.Cpu is { } cpu ? Math.Round(cpu.TotalSeconds, 2) : null,
                ["propagation_ms"] = r.Propagation,
            }),
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true }
        );

    private sealed record Result(
        string Name,
        TimeSpan Wall,
        int ExitCode,
        TimeSpan? Cpu,
        int Attempted,
        int Failed,
        int Cuts,
        int Clean,
        int Bare,
        int CutTwice,
        int SentBack,
        double TakeoverRatio,
        int PeakReconnects,
        string Pace,
        IReadOnlyDictionary<string, long>? Propagation
    );

    private static async Task<Result> MeasureAsync(
        string name,
        string pace,
        Func<UpgradeHarness, Task<(int ExitCode, TimeSpan? Cpu)>> body,
        string balance = "leastconn"
    )
    {
        Console.WriteLine($"== {name}: starting the harness");
        await using var harness = await UpgradeHarness.StartAsync(users: Clients, xmppBalance: balance);
        await using var load = new LoadDriver();
        load.Start(
            "127.0.0.1",
            harness.HAProxy.TcpFrontendPort,
            harness.Users,
            "localhost",
            harness.HAProxy.HttpFrontendPort,
            "/api/status",
            20
        );
        await load.WaitAllLoggedInAsync(Clients, TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        var (exitCode, cpu) = await body(harness);
        var wall = watch.Elapsed;
        await Task.Delay(3000);
        await load.StopAsync();
        Console.WriteLine(load.Summary());
        var events = load.Events;
        var cuts = events.Where(e => e.Operation == LoadOperations.Disconnect).ToList();
        // A cut client is back when it logged in again afterwards; reconnects are the logins that follow a cut.
        var logins = events.Where(e => e.Operation == LoadOperations.Login && e.Succeeded).ToList();
        var back = cuts.Count(c => logins.Any(l => l.Client == c.Client && l.At > c.At));
        var firstCut = cuts.Count == 0 ? DateTimeOffset.MaxValue : cuts.Min(c => c.At);
        var peak = logins
            .Where(l => l.At > firstCut)
            .GroupBy(l => l.At.ToUnixTimeSeconds())
            .Select(g => g.Count())
            .DefaultIfEmpty(0)
            .Max();
        return new Result(
            name,
            wall,
            exitCode,
            cpu,
            events.Count(e => e.Operation != LoadOperations.Disconnect),
            events.Count(e => e.Operation != LoadOperations.Disconnect && !e.Succeeded),
            cuts.Count,
            cuts.Count(c => c.Detail == "stream-close"),
            cuts.Count(c => c.Detail == "tcp-reset"),
            cuts.GroupBy(c => c.Client).Count(g => g.Count() > 1),
            SentBack(logins),
            cuts.Count == 0 ? 1 : (double)back / cuts.Count,
            peak,
            pace,
            Propagation(Path.Combine(harness.Folder, ".rollingupgrade"))
        );
    }

    /// <summary>
    /// Clients that logged in on the old version after they had been on the target (each login records the version
    /// the server reported); -1 when the server did not say.
    /// </summary>
    private static int SentBack(IReadOnlyList<LoadEvent> logins) =>
        logins.Any(l => l.Detail.Length == 0)
            ? -1
            : logins
                .GroupBy(l => l.Client)
                .Count(g => g.OrderBy(l => l.At).SkipWhile(l => l.Detail != Target).Any(l => l.Detail != Target));

    /// <summary>Per node, the time from its drain to HAProxy's last new session for it, from a run's journal.</summary>
    private static Dictionary<string, long>? Propagation(string stateRoot)
    {
        var journal = Directory.Exists(stateRoot)
            ? Directory.EnumerateFiles(stateRoot, "*.jsonl", SearchOption.AllDirectories).FirstOrDefault()
            : null;
        return journal is null
            ? null
            : RollingUpgrade
                .Journaling.Journal.Read(journal)
                .Where(r => r.Type == RollingUpgrade.Journaling.JournalTypes.Propagation)
                .ToDictionary(
                    r => $"{r.Data!["node"]}@{r.Data["load_balancer"]}",
                    r => long.Parse(r.Data!["propagation_ms"], CultureInfo.InvariantCulture),
                    StringComparer.Ordinal
                );
    }

    /// <summary>
    /// Each node: drain everywhere, wait for zero (same 4 s deadline, then 5 evictions/s), stop, install 24.0, start,
    /// ready, wait UP.
    /// </summary>
    private static async Task<(int, TimeSpan?)> FloorAsync(UpgradeHarness harness)
    {
        var client = new HAProxyRuntimeClient(new HAProxyEndpoint(harness.HAProxy.SocketPath), TimeSpan.FromSeconds(5));
        var phases = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var phase = Stopwatch.StartNew();
        void Lap(string name)
        {
            phases[name] = phases.GetValueOrDefault(name) + phase.Elapsed;
            phase.Restart();
        }

        for (var i = 1; i <= 3; i++)
        {
            phase.Restart();
            var server = $"ej{i}";
            foreach (var backend in new[] { "be_xmpp", "be_http" })
            {
                await client.ExecuteMutationAsync($"set server {backend}/{server} state drain", CancellationToken.None);
            }

            var deadline = DateTime.UtcNow.AddSeconds(4);
            while (Live(await client.ExecuteAsync("show stat", CancellationToken.None), server) > 0)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    var sessions = await client.ExecuteAsync("show sess", CancellationToken.None);
                    foreach (var id in SessionList.For(sessions, "be_xmpp", server).Take(1))
                    {
                        await client.ExecuteAsync($"shutdown session {id}", CancellationToken.None);
                    }
                }

                await Task.Delay(DateTime.UtcNow >= deadline ? 200 : 100);
            }

            Lap("drain");
            await harness.Cluster.StopNodeAsync(i);
            Lap("stop");
            await harness.Cluster.InstallAsync(i, "24.0");
            await harness.Cluster.StartNodeAsync(i);
            Lap("start");
            foreach (var backend in new[] { "be_xmpp", "be_http" })
            {
                await client.ExecuteMutationAsync($"set server {backend}/{server} state ready", CancellationToken.None);
            }

            while (
                (await harness.ServerStatusAsync("be_xmpp"))[server] != "UP"
                || (await harness.ServerStatusAsync("be_http"))[server] != "UP"
            )
            {
                await Task.Delay(50);
            }

            Lap("ready until UP");
        }

        Console.WriteLine("floor time by phase (summed over nodes):");
        foreach (var (name, time) in phases)
        {
            Console.WriteLine($"  {time.TotalSeconds, 6:0.00} s  {name}");
        }

        return (0, null);
    }

    private static long Live(string stat, string server) =>
        StatTable.Parse(stat).Rows.Where(r => r.Name == server).Sum(r => r.Live);

    private static async Task<(int, TimeSpan?)> OrchestratorAsync(
        UpgradeHarness harness,
        string repositoryRoot,
        bool autoPace = false,
        bool affinity = true
    )
    {
        var plan = harness.WritePlan(
            repositoryRoot,
            text =>
            {
                if (autoPace)
                {
                    text = System.Text.RegularExpressions.Regex.Replace(
                        text,
                        @"(?m)^eviction_rate = 5\b.*$",
                        "eviction_rate = \"auto\"\nmax_eviction_rate = 50"
                    );
                }

                return affinity
                    ? text
                    : text.Replace("kind = \"rolling\"\n", "kind = \"rolling\"\nversion_affinity = false\n");
            }
        );
        var cli = StateStoreBench.CliDll(repositoryRoot);
        var result = await RunChildAsync("dotnet", [cli, "run", plan, "--output", "json"]);
        PrintStepTimes(Path.Combine(Path.GetDirectoryName(plan)!, ".rollingupgrade"));
        return result;
    }

    /// <summary>Where the run's time went: each step's duration from its journal, summed by kind of step.</summary>
    private static void PrintStepTimes(string stateRoot)
    {
        var journal = Directory
            .EnumerateFiles(stateRoot, "*.jsonl", SearchOption.AllDirectories)
            .OrderBy(File.GetLastWriteTimeUtc)
            .LastOrDefault();
        if (journal is null)
        {
            return;
        }

        var started = new Dictionary<int, (DateTimeOffset At, string Message)>();
        var byKind = new Dictionary<string, TimeSpan>();
        foreach (var record in RollingUpgrade.Journaling.Journal.Read(journal))
        {
            if (record.Step is not { } step)
            {
                continue;
            }

            if (record.Type == RollingUpgrade.Journaling.JournalTypes.StepStarted)
            {
                started[step] = (record.At, record.StepId ?? record.Message ?? string.Empty);
            }
            else if (
                record.Type == RollingUpgrade.Journaling.JournalTypes.StepSucceeded
                && started.TryGetValue(step, out var start)
            )
            {
                var kind = start.Message.Split(':')[0];
                byKind[kind] = byKind.GetValueOrDefault(kind) + (record.At - start.At);
            }
        }

        Console.WriteLine("time by step (summed over nodes):");
        foreach (var (kind, time) in byKind.OrderByDescending(kv => kv.Value))
        {
            Console.WriteLine($"  {time.TotalSeconds, 6:0.00} s  {kind}");
        }
    }

    private static async Task<(int, TimeSpan?)> AnsibleAsync(
        UpgradeHarness harness,
        string repositoryRoot,
        bool shutdownSessions
    )
    {
        var folder = harness.Folder;
        harness.WritePlan(repositoryRoot);
        var inventory = Path.Combine(folder, "inventory.ini");
        File.WriteAllText(
            inventory,
            string.Join(
                "\n",
                Enumerable
                    .Range(1, 3)
                    .Select(i =>
                        $"ej{i} ansible_host={harness.Cluster.Address(i)} ansible_port={harness.Sshd.Port} "
                        + $"ansible_user=root ansible_ssh_private_key_file={folder}/ssh/id_ed25519 node_index={i}"
                    )
            ) + "\n"
        );
        var playbook = Path.Combine(repositoryRoot, "bench", "ansible", "rolling-upgrade.yml");
        return await RunChildAsync(
            "/usr/bin/ansible-playbook",
            [
                "-i",
                inventory,
                playbook,
                "-e",
                $"harness={folder} ej={harness.Cluster.Folder} haproxy_socket={harness.HAProxy.SocketPath} "
                    + $"shutdown_sessions={(shutdownSessions ? "true" : "false")}",
            ],
            new Dictionary<string, string>
            {
                ["ANSIBLE_HOST_KEY_CHECKING"] = "False",
                // As its users run it: Ansible's own default SSH arguments (connection reuse with ControlPersist)
                // plus the harness's known hosts, and pipelining on.
                ["ANSIBLE_SSH_ARGS"] =
                    $"-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={folder}/known_hosts",
                ["ANSIBLE_PIPELINING"] = "True",
            }
        );
    }

    /// <summary>
    /// Runs a child to completion under a shell that reports, when it ends, the CPU time of the child and of every
    /// process it forked and waited for (Ansible's workers, ssh): <c>times</c> of bash.
    /// </summary>
    private static async Task<(int, TimeSpan?)> RunChildAsync(
        string file,
        string[] args,
        Dictionary<string, string>? environment = null
    )
    {
        var times = Path.GetTempFileName();
        var info = new ProcessStartInfo("/bin/bash")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("\"$@\"; rc=$?; times > \"$BENCH_TIMES\"; exit $rc");
        info.ArgumentList.Add("bash");
        info.ArgumentList.Add(file);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BENCH_TIMES"] = times;
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var cpu = CpuOf(await File.ReadAllTextAsync(times));
        File.Delete(times);
        var text = await output + await error;
        var log = Path.Combine(
            Path.GetTempPath(),
            $"rollingupgrade-bench-{Path.GetFileNameWithoutExtension(file)}.log"
        );
        await File.WriteAllTextAsync(log, text);
        Console.WriteLine(string.Join("\n", text.Split('\n').TakeLast(12)));
        Console.WriteLine($"(whole output: {log})");
        return (process.ExitCode, cpu);
    }

    /// <summary>
    /// The sum of every time <c>times</c> printed ("0m1.250s 0m0.310s" for the shell, then its children).
    /// </summary>
    private static TimeSpan? CpuOf(string times)
    {
        var parts = System.Text.RegularExpressions.Regex.Matches(times, @"(\d+)m([\d.]+)s");
        return parts.Count == 0
            ? null
            : TimeSpan.FromSeconds(
                parts.Sum(m =>
                    int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 60
                    + double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)
                )
            );
    }
}
