using System.Text.Json;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Commands;

/// <summary>Loads a plan and prints its problems (text or JSON). Returns null when it is not valid.</summary>
internal static class PlanFile
{
    public static async Task<Plan?> LoadAsync(CliIO io, string path, bool json)
    {
        var result = PlanLoader.LoadFile(path);
        foreach (var diagnostic in result.Diagnostics)
        {
            if (json)
            {
                await io.Output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    type = diagnostic.IsWarning ? "warning" : "error",
                    file = diagnostic.Location.File,
                    line = diagnostic.Location.Line,
                    column = diagnostic.Location.Column,
                    message = diagnostic.Message,
                })).ConfigureAwait(false);
            }
            else
            {
                await io.Error.WriteLineAsync(diagnostic.ToString()).ConfigureAwait(false);
            }
        }

        if (!result.Succeeded)
        {
            var errors = result.Diagnostics.Count(d => !d.IsWarning);
            await io.Error.WriteLineAsync($"{path}: {errors} error(s); nothing was touched").ConfigureAwait(false);
            return null;
        }

        return result.Plan;
    }
}
