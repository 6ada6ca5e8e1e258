using System.Diagnostics;
using System.Globalization;
using System.Text;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Bench;

/// <summary>
/// Many nodes over SSH: <c>hosts</c> addresses 127.0.2.1.. served by real sshd processes (15 addresses each, sshd
/// listens on at most 16), reached through the CLI's shell factory as a run reaches them: every node at once, at most
/// 32 commands in flight (access.max_parallel_commands). Measured: connecting and a first command on all of them,
/// then a command on all of them over the connections kept open, the process's threads and memory per connection.
/// </summary>
internal static class SshScaleBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(int hosts, int rounds)
    {
        var addresses = Enumerable
            .Range(1, hosts)
            .Select(i => $"127.0.{2 + (i - 1) / 250}.{1 + (i - 1) % 250}")
            .ToList();
        var servers = new List<SshdServer>();
        var folder = Directory.CreateTempSubdirectory("ru-bench-ssh-").FullName;
        try
        {
            foreach (var chunk in addresses.Chunk(15))
            {
                servers.Add(new SshdServer(chunk[0], moreAddresses: chunk[1..], extraConfig: "MaxStartups 200"));
            }

            // One client key for every host: the first server's keys are authorized on all of them.
            var authorized = File.ReadAllText(Path.Combine(servers[0].Folder, "authorized_keys"));
            foreach (var server in servers.Skip(1))
            {
                File.WriteAllText(Path.Combine(server.Folder, "authorized_keys"), authorized);
            }

            var planPath = WritePlan(folder, servers, addresses);
            var plan = PlanLoader.Load(File.ReadAllText(planPath), planPath).Plan!;
            var options = new CommandOptions(TimeSpan.FromSeconds(30), false);
            using var limit = new SemaphoreSlim(32);
            async Task AllAsync(ShellFactory shells)
            {
                await Task.WhenAll(
                    plan.Nodes.Select(async node =>
                    {
                        await limit.WaitAsync();
                        try
                        {
                            await using var shell = shells.For(node);
                            var result = await shell.RunAsync(["true"], options, CancellationToken.None);
                            if (result.ExitCode != 0)
                            {
                                throw new InvalidOperationException($"{node.Name}: {result.StandardError}");
                            }
                        }
                        finally
                        {
                            limit.Release();
                        }
                    })
                );
            }

            // Warm up the client (JIT, key parsing) on a factory of its own.
            using (var warm = new ShellFactory(plan))
            {
                await using var shell = warm.For(plan.Nodes[0]);
                await shell.RunAsync(["true"], options, CancellationToken.None);
            }

            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var threadsBefore = process.Threads.Count;
            var memoryBefore = process.WorkingSet64;
            using var factory = new ShellFactory(plan);
            var connect = Stopwatch.StartNew();
            await AllAsync(factory);
            connect.Stop();
            process.Refresh();
            var threadsAfter = process.Threads.Count;
            var memoryAfter = process.WorkingSet64;
            var again = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var watch = Stopwatch.StartNew();
                await AllAsync(factory);
                again.Add(watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(
                string.Create(
                    Inv,
                    $"{hosts} SSH hosts ({servers.Count} sshd): connect + first `true` on all: "
                        + $"{connect.Elapsed.TotalMilliseconds:0} ms; `true` on all over kept connections: median "
                        + $"{again.Order().ElementAt(again.Count / 2):0} ms (rounds: "
                        + $"{string.Join(", ", again.Select(t => t.ToString("0", Inv)))} ms); threads "
                        + $"{threadsBefore} -> {threadsAfter} "
                        + $"({(threadsAfter - threadsBefore) / (double)hosts:0.00} per "
                        + $"host); working set +{(memoryAfter - memoryBefore) / 1024.0 / 1024:0} MiB "
                        + $"({(memoryAfter - memoryBefore) / 1024.0 / hosts:0} KiB per host); shells receive without "
                        + $"reader threads: {RemoteShellInfo()}"
                )
            );
            return 0;
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static string RemoteShellInfo() =>
        typeof(ShellFactory)
            .Assembly.GetType("RollingUpgrade.Nodes.Shells.RemoteShell")
            ?.GetProperty(
                "ReceivesWithoutThreads",
                System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic
            )
            ?.GetValue(null)
            ?.ToString()
        ?? "unknown";

    private static string WritePlan(string folder, List<SshdServer> servers, List<string> addresses)
    {
        var knownHosts = Path.Combine(folder, "known_hosts");
        File.WriteAllText(knownHosts, string.Join("\n", servers.Select(s => s.KnownHostsLine)) + "\n");
        var text = new StringBuilder("[cluster]\nname = \"ssh-bench\"\n\n");
        for (var i = 0; i < addresses.Count; i++)
        {
            text.Append(
                Inv,
                $"[[nodes]]\nname = \"n{i + 1}\"\nhost = \"{addresses[i]}\"\nerlang_node = \"n{i + 1}@sim\"\n"
                    + $"ssh_port = {servers[i / 15].Port}\n\n"
            );
        }

        text.Append(
            Inv,
            $"[access]\nkind = \"ssh\"\nuser = \"root\"\nkey = \"{servers[0].ClientKey("ed25519")}\"\n"
                + $"known_hosts = \"{knownHosts}\"\n\n"
        );
        text.Append(
            """
            [product]
            kind = "generic"

            [product.commands]
            status = "true"
            stop = "true"
            start = "true"

            [upgrade]
            target_version = "2.0"
            backup_config = false
            install = "true"

            [strategy]
            kind = "rolling"
            capacity_nodes = 1

            """
        );
        var path = Path.Combine(folder, "plan.toml");
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
