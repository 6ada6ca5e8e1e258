namespace RollingUpgrade.Tests;

/// <summary>--log-file and --verbose write the diagnostic log with stable event ids; secrets never reach it.</summary>
public sealed class DiagnosticLogTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_log_file_has_every_step_and_command_with_event_ids_and_no_secret()
    {
        using var cluster = new LocalCluster();
        const string variable = "RU_DIAG_TEST_SECRET";
        const string secret = "s3cret-value-never-logged";
        Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            // The xmpp-login gate names the secret's variable; the command gate fails printing its value.
            var gates =
                $"[[gates]]\nname = \"leaky\"\nkind = \"command\"\nattempts = 1\nrun = \"echo token is ${variable}; "
                + $"exit 1\"\n\n"
                + $"[[gates]]\nname = \"login\"\nkind = \"xmpp-login\"\naddress = \"{{host}}:5222\"\nuser = "
                + $"\"probe\"\npassword_env = \"{variable}\"\ndomain = \"localhost\"\n";
            var path = cluster.WritePlan(gates: gates);
            var log = Path.Combine(cluster.Root, "diag.log");

            var result = await CliRunner.RunAsync("run", path, "--log-file", log);

            result.ExitCode.ShouldBe(1, result.Output + result.Error);
            var text = File.ReadAllText(log);
            text.ShouldContain("RollingUpgrade.Engine[1007] run ");
            text.ShouldContain("RollingUpgrade.Engine[1000] step 1 (forward) started");
            text.ShouldContain("RollingUpgrade.Shells[2003] local: test -f ");
            text.ShouldContain("RollingUpgrade.Engine[1002] step ");
            text.ShouldContain("token is ***");
            text.ShouldNotContain(secret);
            (result.Output + result.Error).ShouldNotContain(secret);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Verbose_writes_the_log_to_stderr_and_nothing_is_logged_without_it()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();

        var quiet = await CliRunner.RunAsync("plan", path);
        var verbose = await CliRunner.RunAsync("validate", path, "--offline", "--verbose");

        quiet.ExitCode.ShouldBe(0, quiet.Error);
        quiet.Error.ShouldNotContain("RollingUpgrade.");
        verbose.ExitCode.ShouldBe(0, verbose.Error);
        (await CliRunner.RunAsync("run", path, "--verbose")).Error.ShouldContain(
            "RollingUpgrade.Engine[1001] step 1 (forward) succeeded"
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_log_file_that_cannot_be_written_is_bad_input()
    {
        var result = await CliRunner.RunAsync(
            "validate",
            "/nonexistent/plan.toml",
            "--log-file",
            "/nonexistent-dir/x/diag.log"
        );

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("cannot write the log file");
    }
}
