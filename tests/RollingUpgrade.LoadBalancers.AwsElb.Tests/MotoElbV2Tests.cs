using System.Diagnostics;
using RollingUpgrade.LoadBalancers.AwsElb;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// moto's ELBv2 server (preinstalled, started here on loopback and stopped by process id), seeded
/// with boto3: a VPC, two subnets, an application load balancer, a listener and a target group.
/// </summary>
public sealed class MotoElbV2Tests : IAsyncLifetime
{
    private ChildProcess? _moto;
    private int _port;
    private string _targetGroupArn = string.Empty;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _port = LoopbackPorts.Free();
        _moto = ChildProcess.Start("moto_server", ["-H", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["AWS_EC2_METADATA_DISABLED"] = "true" });
        await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", _port, TimeSpan.FromSeconds(30));
        _targetGroupArn = Seed();
    }

    public Task DisposeAsync()
    {
        _moto?.Dispose();
        _http.Dispose();
        return Task.CompletedTask;
    }

    private string Seed()
    {
        const string script = """
            import boto3, sys
            kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
            ec2 = boto3.client("ec2", **kw)
            elb = boto3.client("elbv2", **kw)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
            b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="eu-west-1b")["Subnet"]["SubnetId"]
            lb = elb.create_load_balancer(Name="xmpp", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
            tg = elb.create_target_group(Name="xmpp-blue", Protocol="HTTP", Port=5280, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
            elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
            print(tg)
            """;
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add($"http://127.0.0.1:{_port}");
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.ShouldBe(0, error);
        return output.Trim();
    }

    private ElbV2Client Client() => new(new Uri($"http://127.0.0.1:{_port}/"), "eu-west-1",
        _ => Task.FromResult(new AwsCredentials("testing", "testing", "session-token")), _http);

    [Fact(Timeout = 60_000)]
    public async Task Register_describe_and_deregister_targets()
    {
        var client = Client();

        await client.RegisterTargetsAsync(_targetGroupArn, [("10.0.1.10", 5280), ("10.0.1.11", 5280)], CancellationToken.None);
        var health = await client.DescribeTargetHealthAsync(_targetGroupArn, null, CancellationToken.None);
        await client.DeregisterTargetsAsync(_targetGroupArn, [("10.0.1.10", 5280)], CancellationToken.None);
        var after = await client.DescribeTargetHealthAsync(_targetGroupArn, null, CancellationToken.None);

        health.Select(h => h.Id).Order(StringComparer.Ordinal).ShouldBe(["10.0.1.10", "10.0.1.11"]);
        health.ShouldAllBe(h => h.Port == 5280 && h.State == "healthy");
        after.Where(h => h.State != "unused").Select(h => h.Id).ShouldBe(["10.0.1.11"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Names_resolve_to_arns_and_attributes_are_read()
    {
        var client = Client();

        var groups = await client.DescribeTargetGroupsAsync(["xmpp-blue"], CancellationToken.None);
        var attributes = await client.DescribeTargetGroupAttributesAsync(groups["xmpp-blue"], CancellationToken.None);

        groups["xmpp-blue"].ShouldBe(_targetGroupArn);
        attributes.ShouldContainKey("deregistration_delay.timeout_seconds");
    }

    [Fact(Timeout = 60_000)]
    public async Task Errors_carry_the_aws_code_and_message_and_are_not_retried()
    {
        var client = Client();
        var missing = _targetGroupArn.Replace("xmpp-blue", "nope-blue", StringComparison.Ordinal);

        var error = await Should.ThrowAsync<ElbV2Exception>(() => client.DescribeTargetHealthAsync(missing, null, CancellationToken.None));

        error.Code.ShouldBe("TargetGroupNotFound");
        error.IsRetryable.ShouldBeFalse();
        error.Message.ShouldContain("TargetGroupNotFound");
    }
}
