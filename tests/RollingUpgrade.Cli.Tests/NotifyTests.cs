using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>[[notify]] webhooks, through the real CLI, against a real HTTP receiver on loopback.</summary>
public sealed class NotifyTests : IDisposable
{
    private readonly string _urlEnv = $"RU_TEST_HOOK_{Guid.NewGuid():N}";
    private readonly string _secretEnv = $"RU_TEST_HOOK_SECRET_{Guid.NewGuid():N}";
    private readonly LocalCluster _cluster = new();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_urlEnv, null);
        Environment.SetEnvironmentVariable(_secretEnv, null);
        _cluster.Dispose();
    }

    private string Plan(string notify) => _cluster.WritePlan(gates: notify);

    private Task<CliResult> RunAsync(string plan, params string[] more) =>
        CliRunner.RunAsync(["run", plan, "--state-dir", Path.Combine(_cluster.Root, "state"), .. more]);

    private static JsonElement Json(WebhookReceiver.Request request) => JsonDocument.Parse(request.Body).RootElement;

    [Fact(Timeout = 60_000)]
    public async Task A_run_tells_a_signed_receiver_it_started_each_node_done_and_succeeded()
    {
        using var receiver = new WebhookReceiver();
        Environment.SetEnvironmentVariable(_urlEnv, receiver.Url);
        Environment.SetEnvironmentVariable(_secretEnv, "hook-secret-value-42");
        var plan = Plan($"[[notify]]\nname = \"ops\"\nurl_env = \"{_urlEnv}\"\nsecret_env = \"{_secretEnv}\"\n");

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(0, result.Error);
        var requests = receiver.Requests.ToList();
        requests
            .Select(r => Json(r).GetProperty("event").GetString())
            .ShouldBe(["started", "node-done", "node-done", "node-done", "succeeded"]);
        requests
            .Where(r => Json(r).GetProperty("event").GetString() == "node-done")
            .Select(r => Json(r).GetProperty("node").GetString())
            .ShouldBe(["n1", "n2", "n3"]);
        foreach (var request in requests)
        {
            var expected =
                "sha256="
                + Convert.ToHexStringLower(
                    HMACSHA256.HashData(Encoding.UTF8.GetBytes("hook-secret-value-42"), request.Body)
                );
            request.Headers["X-RollingUpgrade-Signature"].ShouldBe(expected);
            request.Headers["X-RollingUpgrade-Event"].ShouldBe(Json(request).GetProperty("event").GetString());
            request.Headers["Content-Type"].ShouldStartWith("application/json");
            var body = Json(request);
            body.GetProperty("cluster").GetString().ShouldBe("local");
            body.GetProperty("target_version").GetString().ShouldBe("2.0");
            body.GetProperty("run").GetString().ShouldNotBeNullOrEmpty();
        }

        var said = result.Output + result.Error;
        said.ShouldNotContain(receiver.Url);
        said.ShouldNotContain("hook-secret-value-42");
        foreach (var file in Directory.GetFiles(Path.Combine(_cluster.Root, "state"), "*", SearchOption.AllDirectories))
        {
            File.ReadAllText(file).Contains("hook-secret-value-42", StringComparison.Ordinal).ShouldBeFalse(file);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_receiver_that_fails_twice_gets_the_notification_on_the_third_attempt()
    {
        using var receiver = new WebhookReceiver { FailFirst = 2 };
        Environment.SetEnvironmentVariable(_urlEnv, receiver.Url);
        var plan = Plan($"[[notify]]\nurl_env = \"{_urlEnv}\"\nevents = [\"succeeded\"]\nattempts = 3\n");

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(0, result.Error);
        var requests = receiver.Requests.ToList();
        requests.Count.ShouldBe(3);
        requests.ShouldAllBe(r => r.Text.Contains("\"succeeded\""));
        (requests[2].At - requests[1].At).ShouldBeGreaterThan(requests[1].At - requests[0].At, "the backoff grows");
        result.Error.ShouldNotContain("not delivered");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_receiver_that_hangs_costs_a_warning_and_a_bounded_wait_never_the_run()
    {
        using var receiver = new WebhookReceiver { Hang = true };
        Environment.SetEnvironmentVariable(_urlEnv, receiver.Url);
        var plan = Plan(
            $"[[notify]]\nname = \"chat\"\nurl_env = \"{_urlEnv}\"\nevents = [\"started\", \"succeeded\"]\n"
                + "timeout = \"1s\"\nattempts = 2\n"
        );
        var watch = Stopwatch.StartNew();

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(0, result.Error);
        _cluster.Version(3).ShouldBe("2.0");
        (result.Output + result.Error).ShouldContain(
            "notify 'chat': 'succeeded' not delivered after 2 attempt(s) (no answer within 1s); the run goes on"
        );
        receiver.Requests.Count.ShouldBe(4);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(40));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_receiver_that_is_down_or_a_variable_not_set_is_a_warning()
    {
        var port = RollingUpgrade.Demo.LoopbackPorts.Free();
        Environment.SetEnvironmentVariable(_urlEnv, $"http://127.0.0.1:{port}/nobody");
        var plan = Plan(
            $"[[notify]]\nname = \"down\"\nurl_env = \"{_urlEnv}\"\nevents = [\"succeeded\"]\nattempts = 2\n\n"
                + "[[notify]]\nname = \"unset\"\nurl_env = \"RU_TEST_NEVER_SET_HOOK\"\nevents = [\"succeeded\"]\n"
        );

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(0, result.Error);
        var said = result.Output + result.Error;
        said.ShouldContain("notify 'down': 'succeeded' not delivered after 2 attempt(s) (the receiver refused");
        said.ShouldContain("notify 'unset': RU_TEST_NEVER_SET_HOOK is not set; 'succeeded' was not sent");
        said.ShouldNotContain($"{port}/nobody");
    }

    [Fact(Timeout = 60_000)]
    public async Task Slack_receivers_get_a_text_and_a_halt_is_told_with_what_to_do_next()
    {
        using var receiver = new WebhookReceiver();
        Environment.SetEnvironmentVariable(_urlEnv, receiver.Url);
        var plan = _cluster.WritePlan(
            install: "exit 3",
            gates: $"[[notify]]\nurl_env = \"{_urlEnv}\"\nformat = \"slack\"\nevents = [\"halted\"]\n"
        );

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(1);
        var request = receiver.Requests.ShouldHaveSingleItem();
        var text = Json(request).GetProperty("text").GetString()!;
        text.ShouldStartWith("rollingupgrade local: halted - ");
        text.ShouldContain("install");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_bad_notify_entry_is_refused_before_anything_runs()
    {
        var plan = Plan(
            "[[notify]]\nurl_env = \"https://hooks.example/secret-token\"\nevents = [\"strated\"]\n"
                + "format = \"teams\"\ntimeout = \"5m\"\n"
        );

        var result = await RunAsync(plan);

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("'notify[1].url_env' is not a variable name (the value is not shown");
        result.Error.ShouldNotContain("secret-token");
        result.Error.ShouldContain("names 'strated'; did you mean 'started'?");
        result.Error.ShouldContain("notify[1].format");
        result.Error.ShouldContain("longer than 1m");
        _cluster.Version(1).ShouldBe("1.0");
    }
}
