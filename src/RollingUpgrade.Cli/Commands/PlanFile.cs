using System.Text.Json;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Commands;

/// <summary>Loads a plan and prints its problems (text or JSON). Returns null when it is not valid.</summary>
internal static class PlanFile
{
    /// <param name="strict">
    /// A load balancer that cannot be reached is an error (for `validate`, which can only vouch for what it read),
    /// not a warning.
    /// </param>
    public static async Task<Plan?> LoadAsync(
        CliIO io,
        string path,
        bool json,
        bool inspect = false,
        bool strict = false
    )
    {
        if (await NotARegularFileAsync(path).ConfigureAwait(false) is { } kind)
        {
            // Reading a FIFO or a device would block or never end: refused before it is opened.
            await io
                .Error.WriteLineAsync(
                    $"{path}:1:1: the plan is a {kind}, not a regular file; give the path of a .toml plan"
                )
                .ConfigureAwait(false);
            await io.Error.WriteLineAsync($"{path}: 1 error(s); nothing was touched").ConfigureAwait(false);
            return null;
        }

        var result = PlanLoader.LoadFile(path);
        await PrintAsync(io, result.Diagnostics, json).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            await io
                .Error.WriteLineAsync(
                    $"{path}: {result.Diagnostics.Count(d => !d.IsWarning)} error(s); nothing was touched"
                )
                .ConfigureAwait(false);
            return null;
        }

        RunCommand.SecretsFromEnvironment(result.Plan!, io.Logging.Redactor);
        return inspect ? await InspectAsync(io, result.Plan!, json, strict).ConfigureAwait(false) : result.Plan;
    }

    /// <summary>Checks the plan against the live load balancers it names; null when they contradict it.</summary>
    public static async Task<Plan?> InspectAsync(CliIO io, Plan plan, bool json, bool strict = false)
    {
        if ((io.Adapters) is not Ports.IPlanInspector inspector)
        {
            return plan;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var live = (await inspector.InspectAsync(plan, timeout.Token).ConfigureAwait(false))
            .Select(d =>
                strict && d.IsUnreachable
                    ? d with
                    {
                        IsWarning = false,
                        Message =
                            $"{d.Message}; start it (or fix the address), or pass --offline to check the plan "
                            + "alone",
                    }
                    : d
            )
            .ToList();
        await PrintAsync(io, live, json).ConfigureAwait(false);
        if (live.Any(d => !d.IsWarning && !d.IsNote))
        {
            await io
                .Error.WriteLineAsync(
                    $"{plan.SourcePath}: {live.Count(d => !d.IsWarning && !d.IsNote)} error(s) against the live load "
                        + $"balancers; nothing was touched"
                )
                .ConfigureAwait(false);
            return null;
        }

        return plan;
    }

    /// <summary>What the path is when it exists and is not a regular file (stat(1) follows links), else null.</summary>
    private static async Task<string?> NotARegularFileAsync(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var info = new System.Diagnostics.ProcessStartInfo("stat")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "-L", "-c", "%F", "--", path })
            {
                info.ArgumentList.Add(argument);
            }

            using var process = System.Diagnostics.Process.Start(info)!;
            var kind = (await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false)).Trim();
            await process.WaitForExitAsync().ConfigureAwait(false);
            return process.ExitCode == 0 && kind.Length > 0 && !kind.StartsWith("regular", StringComparison.Ordinal)
                ? kind
                : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No stat(1) here: the loader's own checks apply.
            return null;
        }
    }

    private static async Task PrintAsync(CliIO io, IEnumerable<PlanDiagnostic> diagnostics, bool json)
    {
        foreach (var diagnostic in diagnostics)
        {
            if (json)
            {
                await io
                    .Output.WriteLineAsync(
                        JsonSerializer.Serialize(
                            new
                            {
                                type = diagnostic.IsNote ? "note"
                                : diagnostic.IsWarning ? "warning"
                                : "error",
                                file = diagnostic.Location.File,
                                line = diagnostic.Location.Line,
                                column = diagnostic.Location.Column,
                                message = diagnostic.Message,
                            }
                        )
                    )
                    .ConfigureAwait(false);
            }
            else
            {
                await io.Error.WriteLineAsync(diagnostic.ToString()).ConfigureAwait(false);
            }
        }
    }
}
