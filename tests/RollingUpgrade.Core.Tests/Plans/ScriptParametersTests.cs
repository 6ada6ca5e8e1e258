using System.Diagnostics;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Tests.Plans;

/// <summary>
/// Script-form commands run by a real /bin/sh: whatever quotes surround a placeholder, its value
/// arrives as data, never as code, and as one argument.
/// </summary>
public sealed class ScriptParametersTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-script-").FullName;

    private string Canary => Path.Combine(_folder, "CANARY");

    private static async Task<string> RunAsync(string script, string value)
    {
        var argv = new CommandTemplate([script], IsScript: true).Render(
            new Dictionary<string, string> { ["var.x"] = value, ["node"] = "n1" }
        );
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in argv.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    public static TheoryData<string> Contexts() =>
        new()
        {
            "printf '<%s>' {var.x}",
            "printf '<%s>' \"{var.x}\"",
            "printf '<%s>' '{var.x}'",
            "printf '<%s>' \"prefix {var.x} suffix\"",
            "printf '<%s>' 'prefix {var.x} suffix'",
            "printf '<%s>' \"$(printf '%s' {var.x})\"",
            "printf '<%s>' \"$(printf '%s' \"{var.x}\")\"",
            "x={var.x}; printf '<%s>' \"$x\"",
        };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Contexts))]
    public async Task A_hostile_value_is_one_argument_of_data_in_every_quoting(string script)
    {
        foreach (
            var value in new[]
            {
                $"$(touch {Canary})",
                $"x;touch {Canary};",
                $"`touch {Canary}`",
                "a b",
                "it's \"quoted\"",
                "*",
            }
        )
        {
            var output = await RunAsync(script, value);

            File.Exists(Canary).ShouldBeFalse($"{script} with {value} ran the value");
            output.ShouldStartWith("<");
            output.ShouldEndWith(">");
            output.Count(c => c == '<').ShouldBe(1, $"{script} with '{value}' split it: {output}");
            output.ShouldContain(value, customMessage: script);
        }
    }

    [Fact]
    public void Messages_show_the_script_with_its_values()
    {
        var argv = new CommandTemplate(["echo '{node} is down'; cp \"{var.x}\" /tmp/{node}"], IsScript: true).Render(
            new Dictionary<string, string> { ["var.x"] = "/etc/app.toml", ["node"] = "n1" }
        );

        ShellQuote.Display(argv).ShouldBe("echo 'n1 is down'; cp \"/etc/app.toml\" /tmp/n1");
        argv.Skip(4).ShouldBe(["n1", "/etc/app.toml", "n1"]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
