using RollingUpgrade.Cli;

namespace RollingUpgrade.Tests;

public sealed record CliResult(int ExitCode, string Output, string Error);

public static class CliRunner
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
