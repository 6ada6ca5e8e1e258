using System.Diagnostics;
using RollingUpgrade.LoadBalancers.AwsElb;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// `rollingupgrade` with an aws-elbv2 load balancer against moto's ELBv2 server, run as its own
/// process so each case gets a clean environment and a fresh AWS credential chain.
/// </summary>
public sealed class ElbV2CliTests : IAsyncLifetime
{
    private const string Secret = "testing-secret-key";
    private MotoServer _moto = null!;
    private readonly LocalCluster _cluster = new();

    public async Task InitializeAsync() => _moto = await MotoServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _moto.DisposeAsync();
        _cluster.Dispose();
    }

    /// <summary>
    /// The local cluster's plan behind ELBv2: node i is target 10.0.1.1i:5280 of the seeded group xmpp-blue.
    /// </summary>
    private string Plan(string groups = "[\"xmpp-blue\"]")
    {
        var path = _cluster.WritePlan(
            loadBalancer: $"""
            kind = "aws-elbv2"
            endpoint = "{_moto.Endpoint}"
            target_groups = {groups}
            port = 5280
            ready_timeout = "30s"
            """
        );
        File.WriteAllText(
            path,
            File.ReadAllText(path)
                .Replace("lb_ids = { edge = \"n", "lb_ids = { edge = \"10.0.1.1", StringComparison.Ordinal)
        );
        return path;
    }

    private static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        info.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials";
        info.Environment["AWS_CONFIG_FILE"] = "/nonexistent/config";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await output, await error);
    }

    private ElbV2Client Client(HttpClient http) =>
        new(
            new Uri(_moto.Endpoint + "/"),
            "eu-west-1",
            _ => Task.FromResult(new AwsCredentials("testing", "testing", null)),
            http
        );

    [Fact(Timeout = 120_000)]
    public async Task Run_drains_and_returns_every_target_through_elbv2_and_exits_0()
    {
        var plan = Plan();
        var state = Path.Combine(_cluster.Root, "state");

        var result = await RunAsync(_moto.ClientEnvironment, "run", plan, "--state-dir", state);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        Enumerable.Range(1, 3).ShouldAllBe(i => _cluster.Version(i) == "2.0");
        result.Output.ShouldContain("drain n1 in edge");
        using var http = new HttpClient();
        var health = await Client(http).DescribeTargetHealthAsync(_moto.BlueArn, null, CancellationToken.None);
        health
            .Where(h => h.State == "healthy")
            .Select(h => h.Id)
            .Order(StringComparer.Ordinal)
            .ShouldBe(["10.0.1.11", "10.0.1.12", "10.0.1.13"]);
        (result.Output + result.Error).ShouldNotContain(Secret);
        foreach (var journal in Directory.EnumerateFiles(state, "*.jsonl", SearchOption.AllDirectories))
        {
            (await File.ReadAllTextAsync(journal)).ShouldNotContain(Secret);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Plan_shows_the_deregistration_delay_and_warns_when_it_is_shorter_than_the_drain_timeout()
    {
        var plan = Plan();
        using var http = new HttpClient();

        var before = await RunAsync(_moto.ClientEnvironment, "plan", plan);
        await Client(http)
            .ModifyTargetGroupAttributesAsync(
                _moto.BlueArn,
                new Dictionary<string, string> { ["deregistration_delay.timeout_seconds"] = "2" },
                CancellationToken.None
            );
        var after = await RunAsync(_moto.ClientEnvironment, "plan", plan);

        before.ExitCode.ShouldBe(0, before.Error);
        before.Error.ShouldContain("note: edge: target group xmpp-blue (HTTP, ip targets): deregistration delay 5m");
        // Version affinity cannot be expressed here, and plan says so.
        before.Output.ShouldContain(
            "version affinity: once a batch is upgraded, the nodes not yet upgraded take no new sessions (they keep "
                + "theirs) in no balancer; not in edge (ELBv2 ends a deregistered target's connections after its "
                + "deregistration delay)"
        );
        before.Error.ShouldNotContain("warning");
        after.ExitCode.ShouldBe(0, after.Error);
        after.Error.ShouldContain(
            "warning: edge: target group xmpp-blue ends a deregistered target's connections after 2s, before "
                + "strategy.drain.timeout (5s)"
        );
    }

    [Fact(Timeout = 120_000)]
    public async Task Validate_names_a_missing_target_group_at_its_line_and_exits_2()
    {
        var plan = Plan("[\"xmpp-blue\", \"xmpp-gren\"]");

        var result = await RunAsync(_moto.ClientEnvironment, "validate", plan);

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldContain("target group 'xmpp-gren' was not found in eu-west-1; did you mean 'xmpp-green'?");
        result.Error.ShouldContain("nothing was touched");
    }

    [Fact(Timeout = 120_000)]
    public async Task Without_credentials_plan_warns_and_with_a_profile_it_reads_the_live_groups()
    {
        var plan = Plan();
        var credentials = Path.Combine(_cluster.Root, "aws-credentials");
        await File.WriteAllTextAsync(
            credentials,
            $"[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {Secret}\n"
        );

        var none = await RunAsync(new Dictionary<string, string> { ["AWS_REGION"] = "eu-west-1" }, "plan", plan);
        var profile = await RunAsync(
            new Dictionary<string, string>
            {
                ["AWS_REGION"] = "eu-west-1",
                ["AWS_PROFILE"] = "deploy",
                ["AWS_SHARED_CREDENTIALS_FILE"] = credentials,
            },
            "plan",
            plan
        );

        none.ExitCode.ShouldBe(0, none.Error);
        none.Error.ShouldContain("warning: edge: no AWS credentials found");
        none.Error.ShouldContain("were not checked");
        profile.ExitCode.ShouldBe(0, profile.Error);
        profile.Error.ShouldContain("deregistration delay 5m");
        (profile.Output + profile.Error).ShouldNotContain(Secret);
    }

    [Fact(Timeout = 120_000)]
    public async Task Web_identity_credentials_are_exchanged_with_sts_and_used_with_their_session_token()
    {
        var plan = Plan();
        var token = Path.Combine(_cluster.Root, "web-identity-token");
        await File.WriteAllTextAsync(token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb2xsaW5ndXBncmFkZSJ9.c2lnbmF0dXJl");

        // moto serves STS too: AssumeRoleWithWebIdentity answers temporary credentials with a session token.
        var result = await RunAsync(
            new Dictionary<string, string>
            {
                ["AWS_REGION"] = "eu-west-1",
                ["AWS_WEB_IDENTITY_TOKEN_FILE"] = token,
                ["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/rollingupgrade",
                ["AWS_ROLE_SESSION_NAME"] = "rollingupgrade-test",
                ["AWS_ENDPOINT_URL_STS"] = _moto.Endpoint,
            },
            "plan",
            plan
        );

        result.ExitCode.ShouldBe(0, result.Error);
        result.Error.ShouldContain("deregistration delay 5m");
        result.Error.ShouldNotContain("no AWS credentials");
    }

    [Fact(Timeout = 120_000)]
    public async Task Run_without_a_region_is_refused_before_touching_anything()
    {
        var plan = Plan();
        var state = Path.Combine(_cluster.Root, "state");

        var result = await RunAsync(
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "testing", ["AWS_SECRET_ACCESS_KEY"] = Secret },
            "run",
            plan,
            "--state-dir",
            state
        );

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldContain("no AWS region; set region in the plan, or AWS_REGION");
        result.Error.ShouldContain("nothing was touched");
        Directory.Exists(state).ShouldBeFalse();
        _cluster.Version(1).ShouldBe("1.0");
    }
}
