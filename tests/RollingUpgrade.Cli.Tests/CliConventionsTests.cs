using System.Diagnostics;
using System.Text.Json;

namespace RollingUpgrade.Tests;

/// <summary>How the command line behaves for someone who mistypes, scripts it, or wants completion.</summary>
public sealed class CliConventionsTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_mistyped_command_gets_a_suggestion_and_no_unrelated_error()
    {
        var result = await CliRunner.RunAsync("valdate", "plan.toml");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("'valdate' was not matched. Did you mean one of the following?");
        result.Error.ShouldContain("validate");
        result.Error.ShouldNotContain("Required command was not provided");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_mistyped_option_is_not_taken_for_the_plan_and_gets_the_closest_option()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();

        var result = await CliRunner.RunAsync("validate", "--ofline", plan);

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("unknown option '--ofline'; did you mean '--offline'?");
        result.Error.ShouldNotContain("plan file not found");
    }

    [Fact(Timeout = 30_000)]
    public async Task No_command_says_so_with_exit_code_2()
    {
        var result = await CliRunner.RunAsync();

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("name a command");
    }

    [Fact(Timeout = 30_000)]
    public async Task Promote_with_nothing_waiting_is_nothing_to_do_not_a_halt()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();

        var result = await CliRunner.RunAsync("promote", plan, "--state-dir", Path.Combine(cluster.Root, "state"));

        result.ExitCode.ShouldBe(4, result.Error);
        result.Error.ShouldContain("NOTHING TO DO: no step of local is waiting for promote");
        result.Error.ShouldNotContain("HALTED");

        var json = await CliRunner.RunAsync(
            "promote",
            plan,
            "--state-dir",
            Path.Combine(cluster.Root, "state"),
            "--output",
            "json"
        );
        json.ExitCode.ShouldBe(4);
        var outcome = json
            .Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("type").GetString() == "outcome");
        outcome.GetProperty("status").GetString().ShouldBe("NothingToDo");
        outcome.GetProperty("exit_code").GetInt32().ShouldBe(4);
    }

    [Fact(Timeout = 30_000)]
    public async Task Validate_against_a_load_balancer_that_cannot_be_reached_fails_unless_offline()
    {
        using var cluster = new LocalCluster();
        var socket = Path.Combine(cluster.Root, "no-haproxy.sock");
        var plan = cluster.WritePlan(
            loadBalancer: $"kind = \"haproxy\"\nsockets = [\"{socket}\"]\nbackends = [\"be\"]"
        );

        var online = await CliRunner.RunAsync("validate", plan);
        var offline = await CliRunner.RunAsync("validate", plan, "--offline");
        var preview = await CliRunner.RunAsync("plan", plan);

        online.ExitCode.ShouldBe(2, online.Output);
        online.Error.ShouldContain($"no socket at {socket}");
        online.Error.ShouldContain("pass --offline to check the plan alone");
        online.Error.ShouldNotContain("warning:");
        offline.ExitCode.ShouldBe(0, offline.Error);
        offline.Output.ShouldContain("valid (3 nodes");
        preview.ExitCode.ShouldBe(0, preview.Error);
        preview.Error.ShouldContain("warning: edge: no socket at");
        preview.Output.ShouldContain(
            "version affinity: once a batch is upgraded, the nodes not yet upgraded take no new sessions (they keep "
                + "theirs) in edge"
        );
        preview.Output.ShouldContain(
            "version affinity in edge: new sessions go to the upgraded nodes (n1); n2, n3 keep"
        );

        File.WriteAllText(
            plan,
            File.ReadAllText(plan)
                .Replace(
                    "kind = \"rolling\"\n",
                    "kind = \"rolling\"\nversion_affinity = false\n",
                    StringComparison.Ordinal
                )
        );
        var off = await CliRunner.RunAsync("plan", plan);
        off.ExitCode.ShouldBe(0, off.Error);
        off.Output.ShouldContain("version affinity: off (strategy.version_affinity = false)");
        off.Output.ShouldNotContain("version affinity in edge");
    }

    [Fact(Timeout = 60_000)]
    public async Task Report_answers_in_json_when_asked()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();
        var state = Path.Combine(cluster.Root, "state");
        (await CliRunner.RunAsync("run", plan, "--state-dir", state, "--quiet")).ExitCode.ShouldBe(0);

        var result = await CliRunner.RunAsync("report", plan, "--state-dir", state, "--output", "json");

        result.ExitCode.ShouldBe(0, result.Error);
        var report = JsonDocument.Parse(result.Output.Trim()).RootElement;
        report.GetProperty("type").GetString().ShouldBe("report");
        File.Exists(report.GetProperty("path").GetString()).ShouldBeTrue();
        report.GetProperty("run").GetString()!.ShouldNotBeNullOrEmpty();
    }

    public static TheoryData<string, string> Completions() =>
        new()
        {
            { "rollingupgrade val", "validate" },
            { "rollingupgrade run --out", "--output" },
            { "rollingupgrade run --output ", "json text" },
            { "rollingupgrade completion ", "bash fish pwsh zsh" },
            { "rollingupgrade report --st", "--state-dir --state-schema --state-url-env" },
        };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Completions))]
    public async Task Bash_completes_commands_options_and_their_values_through_the_real_program(
        string line,
        string expected
    )
    {
        var bin = Directory.CreateTempSubdirectory("ru-completion-").FullName;
        try
        {
            var launcher = Path.Combine(bin, "rollingupgrade");
            var dll = Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll");
            await File.WriteAllTextAsync(launcher, $"#!/bin/sh\nexec dotnet \"{dll}\" \"$@\"\n");
            File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var script = await CliRunner.RunAsync("completion", "bash");
            script.ExitCode.ShouldBe(0);
            await File.WriteAllTextAsync(Path.Combine(bin, "completion.bash"), script.Output);
            var words = line.Split(' ');
            var probe =
                $"source \"{bin}/completion.bash\"; COMP_LINE='{line}'; COMP_POINT={line.Length}; "
                + $"COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}; "
                + "_rollingupgrade_complete; printf '%s\\n' \"${COMPREPLY[@]}\"";
            var info = new ProcessStartInfo("bash", ["-c", probe]) { RedirectStandardOutput = true };
            info.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
            using var bash = Process.Start(info)!;
            var said = await bash.StandardOutput.ReadToEndAsync();
            await bash.WaitForExitAsync();

            var offered = said.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            offered.ShouldBeSubsetOf(offered.Where(o => o.StartsWith(line.Split(' ')[^1], StringComparison.Ordinal)));
            expected.Split(' ').ShouldBeSubsetOf(offered);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("zsh", "compdef _rollingupgrade rollingupgrade")]
    [InlineData("fish", "complete -c rollingupgrade")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName rollingupgrade")]
    public async Task Every_shell_gets_a_script_that_asks_the_program(string shell, string registers)
    {
        var result = await CliRunner.RunAsync("completion", shell);

        result.ExitCode.ShouldBe(0);
        result.Output.ShouldContain(registers);
        result.Output.ShouldContain("[suggest:");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unknown_shell_is_refused_with_the_known_ones()
    {
        var result = await CliRunner.RunAsync("completion", "tcsh");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("tcsh");
        result.Error.ShouldContain("bash");
    }
}
