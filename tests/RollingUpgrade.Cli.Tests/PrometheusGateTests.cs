using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>prometheus gates through the real CLI against a Prometheus-compatible API served on loopback.</summary>
public sealed class PrometheusGateTests : IDisposable
{
    private const string Query =
        "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / sum(rate(http_requests_total[1m]))";

    private readonly LocalCluster _cluster = new();
    private readonly MetricsApi _api = new();

    public void Dispose()
    {
        _api.Dispose();
        _cluster.Dispose();
    }

    private string Gate(string more = "") =>
        $"[[gates]]\nname = \"errors\"\nkind = \"prometheus\"\nurl = \"{_api.Url}\"\nquery = '{Query}'\n"
        + $"condition = \"result < 0.01\"\nattempts = 1\n{more}\n";

    private Task<CliResult> RunAsync(string gates) =>
        CliRunner.RunAsync(
            "run",
            _cluster.WritePlan(gates: gates),
            "--state-dir",
            Path.Combine(_cluster.Root, "state")
        );

    [Fact(Timeout = 60_000)]
    public async Task A_condition_met_over_the_window_lets_every_node_through()
    {
        _api.Answer(MetricsApi.Vector(0.002, 0.004));

        var result = await RunAsync(Gate("measurements = 3\ninterval = \"200ms\""));

        result.ExitCode.ShouldBe(0, result.Error);
        _cluster.Version(3).ShouldBe("2.0");
        _api.Queries.Count.ShouldBe(9, "three readings at each node's gate step");
        _api.Queries.ShouldAllBe(q => q.Query == Query);
        result.Output.ShouldContain("gate 'errors' (reading 3 of 3): 0.002, 0.004 meets result < 0.01");
        result.Output.ShouldContain("gate 'errors' passed");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_condition_broken_stops_the_run_at_the_first_node_with_the_value()
    {
        _api.Answer(MetricsApi.Vector(0.001, 0.2));

        var result = await RunAsync(Gate());

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("gate 'errors' failed: 0.2 does not meet result < 0.01 (1 of 2 series)");
        _cluster.Version(2).ShouldBe("1.0");
        _cluster.Running(2).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task No_data_fails_unless_the_gate_says_it_passes()
    {
        _api.Answer(MetricsApi.Vector());

        var strict = await RunAsync(Gate());
        strict.ExitCode.ShouldBe(1);
        strict.Error.ShouldContain("gate 'errors' failed: the query returned no data");

        using var other = new LocalCluster();
        var lenient = await CliRunner.RunAsync(
            "run",
            other.WritePlan(gates: Gate("no_data = \"pass\"")),
            "--state-dir",
            Path.Combine(other.Root, "state")
        );
        lenient.ExitCode.ShouldBe(0, lenient.Error);
        lenient.Output.ShouldContain("the query returned no data (no_data = \"pass\")");
    }

    [Fact(Timeout = 60_000)]
    public async Task One_bad_reading_within_the_failure_limit_is_a_warning()
    {
        _api.Answer(MetricsApi.Vector(0.3), MetricsApi.Vector(0.001));

        var result = await RunAsync(Gate("measurements = 3\ninterval = \"100ms\"\nfailure_limit = 1"));

        result.ExitCode.ShouldBe(0, result.Error);
        (result.Output + result.Error).ShouldContain(
            "gate 'errors' (reading 1 of 3): 0.3 does not meet result < 0.01 (1 of 1 series); 1 of at most 1 failed"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_query_the_API_refuses_stops_the_run_with_its_error()
    {
        _api.Answer(MetricsApi.Error("bad_data", "1:5: parse error: unexpected identifier"));

        var result = await RunAsync(Gate());

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain(
            "the metrics API refused the query (bad_data: 1:5: parse error: unexpected identifier)"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task An_API_that_is_down_fails_the_gate_after_its_attempts()
    {
        var url = _api.Url;
        _api.Dispose();
        var gates = Gate().Replace("attempts = 1", "attempts = 2", StringComparison.Ordinal);

        var result = await RunAsync(gates);

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain($"the metrics API at {url} could not be reached");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_malformed_metric_gate_is_refused_before_anything_runs()
    {
        var result = await RunAsync(
            Gate("measurements = 2\nfailure_limit = 2")
                .Replace("result < 0.01", "errors below 1%", StringComparison.Ordinal)
        );

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("'gates[1].condition' is 'errors below 1%'; it must read 'result OP NUMBER'");
        result.Error.ShouldContain("'gates[1].failure_limit' is 2, so the gate could never fail");
        _api.Queries.ShouldBeEmpty();
        _cluster.Version(1).ShouldBe("1.0");
    }
}
