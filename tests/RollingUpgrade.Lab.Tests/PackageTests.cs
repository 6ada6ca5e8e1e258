using System.IO.Compression;

namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// The packages people install: the .NET tool (`dotnet tool install`), the self-contained single-file binary, and
/// the container image of deploy/docker/Dockerfile; each runs `validate` and `demo`.
/// </summary>
[Collection(nameof(Packages))]
public sealed class PackageTests(Packages packages)
{
    private static string Example =>
        Path.Combine(Packages.RepositoryRoot, "deploy", "examples", "rolling-ejabberd-local.toml");

    [Fact(Timeout = 600_000)]
    public async Task The_tool_package_installs_with_dotnet_tool_install_and_runs_the_command()
    {
        var nupkg = Directory.GetFiles(packages.PackageFolder, "RollingUpgrade.*.nupkg").ShouldHaveSingleItem();
        using (var archive = ZipFile.OpenRead(nupkg))
        {
            archive.Entries.Select(e => e.FullName).ShouldContain("README.md");
            var spec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            using var reader = new StreamReader(spec.Open());
            var text = await reader.ReadToEndAsync();
            text.ShouldContain("<packageType name=\"DotnetTool\"");
            text.ShouldContain("<readme>README.md</readme>");
        }

        var tools = Directory.CreateTempSubdirectory("ru-tool-").FullName;
        try
        {
            // Only the package folder as a source: the install works where no registry is reachable.
            var config = Path.Combine(tools, "nuget.config");
            await File.WriteAllTextAsync(
                config,
                "<configuration><packageSources><clear />"
                    + $"<add key=\"local\" value=\"{packages.PackageFolder}\" /></packageSources></configuration>"
            );
            await Packages.RunAsync(
                "dotnet",
                ["tool", "install", "RollingUpgrade", "--tool-path", Path.Combine(tools, "bin"), "--configfile", config]
            );
            var command = Path.Combine(tools, "bin", "rollingupgrade");
            (await Packages.RunAsync(command, ["--version"])).Trim().ShouldStartWith("0.9.0");
            (await Packages.RunAsync(command, ["validate", "--offline", Example])).ShouldContain("valid (3 nodes");
        }
        finally
        {
            Directory.Delete(tools, recursive: true);
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task The_single_file_binary_runs_validate_and_the_demo()
    {
        File.Exists(packages.SingleFile).ShouldBeTrue();
        Directory.GetFiles(Path.GetDirectoryName(packages.SingleFile)!, "*.dll").ShouldBeEmpty("one file");
        (await Packages.RunAsync(packages.SingleFile, ["--version"])).Trim().ShouldStartWith("0.9.0");
        (await Packages.RunAsync(packages.SingleFile, ["validate", "--offline", Example])).ShouldContain("valid");

        var demo = await Packages.RunAsync(packages.SingleFile, ["demo"]);
        demo.ShouldContain("SUCCEEDED: demo-rolling runs 2.0");
        demo.ShouldContain("SUCCEEDED: demo-parallel runs 3.0");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_ci_example_never_pastes_an_input_into_a_script_and_uses_commands_and_options_that_exist()
    {
        var path = Path.Combine(Packages.RepositoryRoot, "deploy", "ci", "rollingupgrade.yml");
        var scripts = RunScripts(await File.ReadAllLinesAsync(path)).ToList();
        scripts.ShouldNotBeEmpty();
        scripts.Where(l => l.Contains("${{", StringComparison.Ordinal)).ShouldBeEmpty("inputs go through env:");

        var calls = scripts
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("rollingupgrade ", StringComparison.Ordinal))
            .ToList();
        calls.Select(c => c.Split(' ')[1]).Distinct().Order().ShouldBe(["history", "plan", "run", "validate"]);
        foreach (var call in calls)
        {
            var words = call.Split(' ');
            var help = await Packages.RunAsync(packages.SingleFile, [words[1], "--help"]);
            foreach (var option in words.Where(w => w.StartsWith("--", StringComparison.Ordinal)))
            {
                help.ShouldContain(option, customMessage: $"`{call}`");
            }
        }
    }

    /// <summary>Every line of every `run:` script: inline, or the indented block after `run: |`.</summary>
    private static IEnumerable<string> RunScripts(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            var key =
                trimmed.StartsWith("- run:", StringComparison.Ordinal) ? "- run:"
                : trimmed.StartsWith("run:", StringComparison.Ordinal) ? "run:"
                : null;
            if (key is null)
            {
                continue;
            }

            var rest = trimmed[key.Length..].Trim();
            if (rest != "|")
            {
                yield return rest;
                continue;
            }

            var indent = lines[i].Length - trimmed.Length;
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || Indent(lines[i + 1]) > indent))
            {
                yield return lines[++i];
            }
        }

        static int Indent(string line) => line.Length - line.TrimStart().Length;
    }
}
