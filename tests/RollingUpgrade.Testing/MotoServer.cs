using System.Diagnostics;
using System.Globalization;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// moto's ELBv2 server (preinstalled with Python 3.11), started on loopback and stopped by its
/// process id, seeded with boto3: a VPC with two subnets, an application load balancer with an
/// HTTP listener and a rule, blue and green target groups, and a network load balancer with a
/// TCP listener on its own target group.
/// </summary>
public sealed class MotoServer : IAsyncDisposable
{
    private const string SeedScript = """
        import boto3, sys
        kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        ec2 = boto3.client("ec2", **kw)
        elb = boto3.client("elbv2", **kw)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
        b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="eu-west-1b")["Subnet"]["SubnetId"]
        lb = elb.create_load_balancer(Name="xmpp", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name="xmpp-blue", Protocol="HTTP", Port=5280, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        green = elb.create_target_group(Name="xmpp-green", Protocol="HTTP", Port=5280, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
        rule = elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/ws/*"]}], Actions=[{"Type": "forward", "TargetGroupArn": tg}])["Rules"][0]["RuleArn"]
        nlb = elb.create_load_balancer(Name="xmpp-nlb", Subnets=[a, b], Type="network")["LoadBalancers"][0]["LoadBalancerArn"]
        tcp = elb.create_target_group(Name="c2s-blue", Protocol="TCP", Port=5222, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        tcp_listener = elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=5222, DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp}])["Listeners"][0]["ListenerArn"]
        for ip in ["10.0.1.11", "10.0.1.12", "10.0.1.13"]:
            elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 5280}])
        print(tg, green, listener, rule, tcp, tcp_listener)
        """;

    private readonly ChildProcess _process;

    private MotoServer(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string BlueArn { get; private set; } = string.Empty;

    public string GreenArn { get; private set; } = string.Empty;

    public string ListenerArn { get; private set; } = string.Empty;

    public string RuleArn { get; private set; } = string.Empty;

    public string TcpGroupArn { get; private set; } = string.Empty;

    public string TcpListenerArn { get; private set; } = string.Empty;

    /// <summary>Environment for a child that talks to this server: test credentials, no instance metadata.</summary>
    public IReadOnlyDictionary<string, string> ClientEnvironment =>
        new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "testing",
            ["AWS_SECRET_ACCESS_KEY"] = "testing-secret-key",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_REGION"] = "eu-west-1",
        };

    public static async Task<MotoServer> StartAsync()
    {
        var port = LoopbackPorts.Free();
        var process = ChildProcess.Start(
            "moto_server",
            ["-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["AWS_EC2_METADATA_DISABLED"] = "true" }
        );
        var server = new MotoServer(process, port);
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync("127.0.0.1", port, TimeSpan.FromSeconds(30));
            var arns = server.Seed().Split(' ');
            (
                server.BlueArn,
                server.GreenArn,
                server.ListenerArn,
                server.RuleArn,
                server.TcpGroupArn,
                server.TcpListenerArn
            ) = (arns[0], arns[1], arns[2], arns[3], arns[4], arns[5]);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private string Seed()
    {
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(SeedScript);
        info.ArgumentList.Add(Endpoint);
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"seeding moto failed: {error}");
        }

        return output.Result.Trim();
    }

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
