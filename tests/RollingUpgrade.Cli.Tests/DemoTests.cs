namespace RollingUpgrade.Tests;

public sealed class DemoTests
{
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

    internal static int DemoNodeProcesses(string state) =>
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
