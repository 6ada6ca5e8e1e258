using System.Diagnostics;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// <c>report PLAN [--run ID] [--file PATH] [--open]</c>: the HTML report of a run of the plan's cluster (the current
/// or last run when no id is given), from either state backend; prints its path, and opens it when asked.
/// </summary>
internal sealed class ReportCommand(
    CliIO io,
    string path,
    string? runId,
    string? file,
    bool open,
    StateOptions state,
    bool json = false
)
{
    public async Task<int> RunAsync()
    {
        var plan = await PlanFile.LoadAsync(io, path, json).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var redactor = RunCommand.SecretsFromEnvironment(plan);
        await using var store = await StateStores.OpenAsync(io, plan, state, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return ExitCodes.BadInput;
        }

        var cluster = plan.Cluster.Name;
        var runs = await store.RunIdsAsync(cluster).ConfigureAwait(false);
        var id = runId ?? await store.CurrentRunIdAsync(cluster).ConfigureAwait(false) ?? runs.LastOrDefault();
        if (id is null || (runId is not null && !runs.Contains(runId, StringComparer.Ordinal)))
        {
            var known = runs.Count == 0 ? "it has no runs yet" : $"its runs: {string.Join(", ", runs.TakeLast(5))}";
            await io
                .Error.WriteLineAsync(
                    $"rollingupgrade: no run {(runId is null ? string.Empty : runId + " ")}of {cluster} in "
                        + $"{store.Describe(cluster)} ({known}); `rollingupgrade history {path}` lists them"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var target = file ?? ReportFiles.PathFor(plan, state, id);
        if (
            await Reporting.ReportFile.WriteAsync(store, plan.Cluster.Name, id, target, redactor).ConfigureAwait(false)
            is null
        )
        {
            await io
                .Error.WriteLineAsync($"rollingupgrade: the journal of run {id} has no run-started record; no report")
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        await io
            .Output.WriteLineAsync(
                json
                    ? System.Text.Json.JsonSerializer.Serialize(
                        new
                        {
                            type = "report",
                            run = id,
                            path = Path.GetFullPath(target),
                        }
                    )
                    : $"report: {Path.GetFullPath(target)}"
            )
            .ConfigureAwait(false);
        if (open)
        {
            await OpenAsync(Path.GetFullPath(target)).ConfigureAwait(false);
        }

        return ExitCodes.Done;
    }

    /// <summary>Hands the file to the desktop's opener (xdg-open; open on macOS); says so when there is none.</summary>
    private async Task OpenAsync(string report)
    {
        var opener = OperatingSystem.IsMacOS() ? "open" : "xdg-open";
        try
        {
            using var process = Process.Start(
                new ProcessStartInfo(opener, [report]) { UseShellExecute = false, RedirectStandardError = true }
            );
            if (process is not null)
            {
                await process.WaitForExitAsync().ConfigureAwait(false);
                if (process.ExitCode == 0)
                {
                    return;
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No opener on this machine: said below.
        }

        await io
            .Error.WriteLineAsync($"rollingupgrade: could not open the report with {opener}; open {report} yourself")
            .ConfigureAwait(false);
    }
}
