namespace RollingUpgrade.Tests;

/// <summary>Values from a plan never become shell code, and never move a path out of its folder.</summary>
public sealed class HostileValueTests
{
    private static string WithVar(LocalCluster cluster, string path, string name, string value)
    {
        var text = File.ReadAllText(path);
        for (var i = 1; i <= cluster.Nodes; i++)
        {
            var dir = cluster.NodeDir(i);
            text = text.Replace(
                $"vars = {{ dir = \"{dir}\" }}",
                $"vars = {{ dir = \"{dir}\", {name} = '{value}' }}",
                StringComparison.Ordinal
            );
        }

        File.WriteAllText(path, text);
        return path;
    }

    [Theory(Timeout = 60_000)]
    [InlineData("echo \"{var.x}\" > {var.dir}/note", "$(touch CANARY)")]
    [InlineData("echo '{var.x}' > {var.dir}/note", "x;touch CANARY;")]
    [InlineData("echo {var.x} > {var.dir}/note", "`touch CANARY`")]
    public async Task A_hostile_var_in_any_quoting_is_written_as_data_not_run(string note, string value)
    {
        using var cluster = new LocalCluster();
        var canary = Path.Combine(cluster.Root, "CANARY");
        value = value.Replace("CANARY", canary, StringComparison.Ordinal);
        var path = WithVar(
            cluster,
            cluster.WritePlan(install: note + "; echo {version} > {var.dir}/installed"),
            "x",
            value
        );

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        File.Exists(canary).ShouldBeFalse();
        File.ReadAllText(Path.Combine(cluster.NodeDir(1), "note")).Trim().ShouldBe(value);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_var_with_spaces_in_single_quotes_arrives_as_one_argument()
    {
        using var cluster = new LocalCluster();
        var install = "printf '<%s>\\n' '{var.x}' > {var.dir}/args; echo {version} > {var.dir}/installed";
        var path = WithVar(cluster, cluster.WritePlan(install: install), "x", "a b");

        var result = await CliRunner.RunAsync("run", path);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
        File.ReadAllText(Path.Combine(cluster.NodeDir(1), "args")).ShouldBe("<a b>\n");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_var_that_moves_the_config_out_of_its_folder_is_refused()
    {
        using var cluster = new LocalCluster();
        var path = cluster.WritePlan();
        File.WriteAllText(
            path,
            File.ReadAllText(path)
                .Replace(
                    "start_timeout = \"20s\"",
                    "start_timeout = \"20s\"\nconfig_path = \"/etc/app/{var.sub}/app.toml\"",
                    StringComparison.Ordinal
                )
        );
        WithVar(cluster, path, "sub", "../../root");

        var result = await CliRunner.RunAsync("validate", path, "--offline");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("'product.config_path' for node n1 is '/etc/app/../../root/app.toml'");
        result.Error.ShouldContain("'..'");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_fifo_given_as_the_plan_is_refused_without_blocking()
    {
        using var cluster = new LocalCluster();
        var fifo = Path.Combine(cluster.Root, "plan.fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!)
        {
            await mkfifo.WaitForExitAsync();
        }

        var result = await CliRunner.RunAsync("validate", fifo, "--offline");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain($"{fifo}:1:1: the plan is a fifo, not a regular file");
    }

    [Fact(Timeout = 30_000)]
    public async Task Nesting_deeper_than_the_parser_allows_is_bad_input_with_its_place()
    {
        using var cluster = new LocalCluster();
        var path = Path.Combine(cluster.Root, "deep.toml");
        await File.WriteAllTextAsync(
            path,
            "[cluster]\nname = \"x\"\nbad = " + new string('[', 500) + new string(']', 500) + "\n"
        );

        var result = await CliRunner.RunAsync("validate", path, "--offline");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain($"{path}:3:71: arrays and inline tables nest deeper than 64 levels here");
    }
}
