namespace RollingUpgrade.Tests;

public sealed class DemoTests
{
    [Fact(Timeout = 180_000)]
    public async Task The_demo_upgrades_and_cuts_over_with_zero_failed_client_operations_and_leaves_no_process()
    {
        var result = await CliRunner.RunAsync("demo");

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        result.Output.ShouldContain("SUCCEEDED: demo-rolling runs 2.0");
        result.Output.ShouldContain("SUCCEEDED: demo-parallel runs 3.0");
        result.Output.Split('\n')[1].ShouldBe("preparing: starting blue-1..3 and the proxy ...");
        result.Output.ShouldContain("exit code 0) ==");
        result.Output.ShouldContain("client operations from the first step of the upgrade:");
        var operations = result
            .Output.Split('\n')
            .Where(l => l.Contains("attempted", StringComparison.Ordinal))
            .ToList();
        operations.Count.ShouldBe(5);
        operations.ShouldAllBe(l => l.TrimEnd().EndsWith("failed 0", StringComparison.Ordinal));
        // This demo's nodes (their --dir lies in its state folder): other demos may run on the machine meanwhile
        // (the lab's tests run one in a container, whose processes the host sees).
        var state = System.Text.RegularExpressions.Regex.Match(result.Output, @"state in (\S+)").Groups[1].Value;
        state.StartsWith('/').ShouldBeTrue(result.Output);
        DemoNodeProcesses(state).ShouldBe(0);
    }

    [Fact(Timeout = 240_000)]
    public async Task The_ejabberd_demo_upgrades_a_real_cluster_through_the_proxy_with_zero_failed_client_operations()
    {
        var result = await CliRunner.RunAsync("demo", "--nodes", "ejabberd");

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        result.Output.ShouldContain("SUCCEEDED: demo-ejabberd runs 24.0");
        result.Output.ShouldContain("SUCCEEDED: demo-ejabberd-cutover runs 25.0");
        result.Output.ShouldContain("preparing: starting the ejabberd cluster demo1..3 with 12 accounts ...");
        result.Output.ShouldContain("exit code 0) ==");
        result.Output.ShouldContain("client operations from the first step of the upgrade:");
        foreach (var operation in new[] { "connect", "login", "ping", "http" })
        {
            result
                .Output.Split('\n')
                .Single(l => l.StartsWith(operation + " ", StringComparison.Ordinal))
                .TrimEnd()
                .ShouldEndWith("failed    0");
        }
    }

    private static int DemoNodeProcesses(string state) =>
        Directory
            .GetDirectories("/proc")
            .Count(d =>
            {
                try
                {
                    return int.TryParse(Path.GetFileName(d), out _)
                        && File.ReadAllText(Path.Combine(d, "cmdline")) is var line
                        && line.Contains("demo-node", StringComparison.Ordinal)
                        && line.Contains(state, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            });
}
