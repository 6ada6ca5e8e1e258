using System.Collections.Concurrent;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>`run --metrics-listen`: the run's metrics scraped while it runs, read as Prometheus text.</summary>
public sealed class MetricsTests
{
    [Fact(Timeout = 90_000)]
    public async Task A_run_serves_its_phase_steps_node_states_versions_and_durations_while_it_runs()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan(
            install: "sleep 0.5; echo {version} > {var.dir}/installed",
            // The gate takes 0.3 s, so that after each node's start (where its version is set) scrapes every 50 ms
            // see it before the run ends and the endpoint with it.
            gates: "[[gates]]\nname = \"ready\"\nkind = \"command\"\nrun = \"sleep 0.3\"\n"
        );
        var port = RollingUpgrade.Demo.LoopbackPorts.Free();
        var scrapes = new ConcurrentQueue<IReadOnlyList<PrometheusText.Sample>>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var done = new CancellationTokenSource();
        var scraping = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
                    // A scrape that meets the endpoint closing as the run ends has no body to read.
                    if (response.Content.Headers.ContentType?.MediaType is { } type)
                    {
                        type.ShouldBe("text/plain");
                        scrapes.Enqueue(PrometheusText.Parse(await response.Content.ReadAsStringAsync()));
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet, or no longer.
                }

                await Task.Delay(50);
            }
        });

        var result = await CliRunner.RunAsync(
            "run",
            plan,
            "--state-dir",
            Path.Combine(cluster.Root, "state"),
            "--metrics-listen",
            $"127.0.0.1:{port}"
        );
        await done.CancelAsync();
        await scraping;

        result.ExitCode.ShouldBe(0, result.Error);
        scrapes.Count.ShouldBeGreaterThan(5);
        var all = scrapes.SelectMany(s => s).ToList();
        all.ShouldContain(s =>
            s.Name == "rollingupgrade_run_info"
            && s.Has("cluster", "local")
            && s.Has("strategy", "rolling")
            && s.Has("target_version", "2.0")
            && s.Value == 1
        );
        all.ShouldContain(s =>
            s.Name == "rollingupgrade_node_state" && s.Has("node", "n2") && s.Has("state", "installing") && s.Value == 1
        );
        all.ShouldContain(s => s.Name == "rollingupgrade_run_phase" && s.Has("phase", "forward") && s.Value == 1);
        all.ShouldContain(s => s.Name == "rollingupgrade_run_holds_cluster" && s.Value == 1);
        all.ShouldContain(s =>
            s.Name == "rollingupgrade_gate_results_total" && s.Has("gate", "ready") && s.Has("result", "passed")
        );
        // The last node's version is set when it has started; it is looked for in every scrape, not only the last
        // (which may come from before that).
        all.ShouldContain(s =>
            s.Name == "rollingupgrade_node_version_info" && s.Has("node", "n3") && s.Has("version", "2.0")
        );
        all.Where(s => s.Name == "rollingupgrade_step_duration_seconds_count" && s.Has("kind", "Install"))
            .Max(s => s.Value)
            .ShouldBe(3);
        all.Where(s => s.Name == "rollingupgrade_step_duration_seconds_sum" && s.Has("kind", "Install"))
            .Max(s => s.Value)
            .ShouldBeGreaterThan(1.4);
        foreach (var scrape in scrapes)
        {
            var states = scrape.Where(s => s.Name == "rollingupgrade_node_state" && s.Value == 1).ToList();
            states.Count.ShouldBeLessThanOrEqualTo(3, "one state per node at a time");
        }

        scrapes
            .Last()
            .Count(s => s.Name == "rollingupgrade_node_state" && s.Value == 1)
            .ShouldBe(3, "one state per node at a time");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("localhost:9464", "'localhost' is not an IP address")]
    [InlineData("127.0.0.1:99999", "'99999' is not a port")]
    [InlineData("9464", "give ADDR:PORT")]
    public async Task A_bad_listen_address_is_refused_with_nothing_touched(string listen, string said)
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();

        var result = await CliRunner.RunAsync(
            "run",
            plan,
            "--state-dir",
            Path.Combine(cluster.Root, "state"),
            "--metrics-listen",
            listen
        );

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain(said);
        cluster.Version(1).ShouldBe("1.0");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_port_already_taken_is_refused_with_nothing_touched()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();
        var port = RollingUpgrade.Demo.LoopbackPorts.Free();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        taken.Start();

        var result = await CliRunner.RunAsync(
            "run",
            plan,
            "--state-dir",
            Path.Combine(cluster.Root, "state"),
            "--metrics-listen",
            $"127.0.0.1:{port}"
        );

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("cannot listen there");
        cluster.Version(1).ShouldBe("1.0");
    }
}
