using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// The process-level matrix (docs/reliability.md): the real CLI as a child process upgrading demo nodes
/// behind the embedded proxy and an HAProxy pair, with clients on all three frontends the whole time.
/// Each test interrupts one run at every point of a kind (SIGKILL after each step ends, SIGKILL inside
/// each step, SIGTERM/SIGINT/SIGHUP inside each step), resuming after each interruption; the run must
/// end exactly as an uninterrupted run does, with no failed client operation.
/// </summary>
[Collection("harness")]
public sealed class ProcessMatrixTests(ITestOutputHelper output)
{
    private static readonly ConcurrentDictionary<string, Task<string>> References = new(StringComparer.Ordinal);

    private static readonly string[] Signals = ["TERM", "INT", "HUP"];

    /// <summary>Where each kind of interruption lands, by journal record.</summary>
    public enum Point
    {
        /// <summary>SIGKILL as soon as step k's end is journalled: between two steps.</summary>
        KillAfterStep,

        /// <summary>SIGKILL as soon as step k's start is journalled: inside it (a command or a wait).</summary>
        KillInsideStep,

        /// <summary>SIGTERM, SIGINT, SIGHUP in turn inside step k: a safe stop, exit 130.</summary>
        SignalInsideStep,
    }

    [Theory(Timeout = 900_000)]
    [InlineData("rolling", Point.KillAfterStep)]
    [InlineData("rolling", Point.KillInsideStep)]
    [InlineData("rolling", Point.SignalInsideStep)]
    [InlineData("parallel", Point.KillAfterStep)]
    [InlineData("parallel", Point.KillInsideStep)]
    [InlineData("parallel", Point.SignalInsideStep)]
    public async Task An_interruption_at_every_point_then_resume_ends_as_an_uninterrupted_run(
        string strategy,
        Point kind
    )
    {
        var reference = await ReferenceAsync(strategy);
        await using var lab = await ProcessLab.StartAsync(firstAddress: 71);
        var plan = lab.WritePlan(strategy);
        var watch = Stopwatch.StartNew();

        var points = await InterruptAtEveryStepAsync(lab, plan, kind);
        await FinishAsync(lab, plan);

        await lab.WaitServingAsync(strategy == "rolling" ? ProcessLab.Blue : ProcessLab.Green);
        var end = await lab.EndStateAsync();
        output.WriteLine(
            $"{strategy} {kind}: {points} interruptions, {watch.Elapsed.TotalSeconds:0}s; client operations "
                + string.Join(
                    ", ",
                    lab.ClientOperations.Select(c => $"{c.Key} {c.Value.Attempted}/{c.Value.Failed} failed")
                )
        );
        points.ShouldBeGreaterThan(strategy == "rolling" ? 20 : 15);
        end.ShouldBe(reference);
        lab.FailedClientOperations.ShouldBe(0, string.Join(", ", lab.ClientOperations));
    }

    [Fact(Timeout = 900_000)]
    public async Task A_parallel_run_killed_at_any_traffic_step_rolls_back_to_blue_without_a_failed_client_operation()
    {
        await using var lab = await ProcessLab.StartAsync(firstAddress: 71);
        var plan = lab.WritePlan("parallel");
        var shifts = (await StepsAsync(plan, lab)).Where(s => s.Kind == "ShiftTraffic").ToList();
        shifts.Count.ShouldBeGreaterThan(2);
        string? first = null;

        foreach (var shift in shifts)
        {
            using var cli = lab.StartCli("run", plan);
            (await InterruptAsync(lab, cli, 0, ("step-started", shift.Number), "KILL")).ShouldBeTrue(cli.Output);
            (await cli.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(137);

            using var rollback = lab.StartCli("rollback", plan);
            var code = await rollback.WaitForExitAsync(TimeSpan.FromMinutes(3));
            output.WriteLine($"killed in step {shift.Number} ({shift.Description}); rollback exit {code}");
            code.ShouldBeOneOf([0, 1], rollback.Output);
            rollback.Output.ShouldContain("rolled back", Case.Insensitive);
            await lab.WaitServingAsync(ProcessLab.Blue);
            var end = await lab.EndStateAsync();
            BlueOnly(end);
            end.ShouldBe(first ?? end, "every rollback ends the same");
            first = end;
        }

        lab.FailedClientOperations.ShouldBe(0, string.Join(", ", lab.ClientOperations));
    }

    /// <summary>
    /// Blue serves 1.0 with weight in every balancer; green has no weight and is drained (a rollback leaves it
    /// running for inspection).
    /// </summary>
    private static void BlueOnly(string end)
    {
        var lines = end.Split('\n');
        foreach (var line in lines)
        {
            var green = line.Contains("/g", StringComparison.Ordinal) || line.StartsWith('g');
            if (line.StartsWith('b'))
            {
                line.ShouldContain(": serving 1.0", customMessage: end);
            }
            else if (!line.StartsWith('g'))
            {
                (line.EndsWith(" weight 0", StringComparison.Ordinal) == green).ShouldBeTrue(end);
                if (green)
                {
                    (
                        line.Contains("Drain", StringComparison.Ordinal)
                        || line.Contains("admin 8", StringComparison.Ordinal)
                    ).ShouldBeTrue(end);
                }
            }
        }
    }

    private sealed record PlannedStep(int Number, string Kind, string Description);

    /// <summary>The steps `plan --output json` prints.</summary>
    private static async Task<IReadOnlyList<PlannedStep>> StepsAsync(string plan, ProcessLab lab)
    {
        using var cli = lab.StartCli("plan", plan, "--output", "json");
        (await cli.WaitForExitAsync(TimeSpan.FromMinutes(1))).ShouldBe(0, cli.Output);
        var steps = new List<PlannedStep>();
        foreach (var line in cli.Output.Split('\n').Where(l => l.StartsWith('{')))
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.GetProperty("type").GetString() == "step")
            {
                steps.Add(
                    new PlannedStep(
                        root.GetProperty("number").GetInt32(),
                        root.GetProperty("kind").GetString()!,
                        root.GetProperty("description").GetString()!
                    )
                );
            }
        }

        return steps;
    }

    /// <summary>The end state of an uninterrupted run, made once per strategy; a failed one is made again.</summary>
    private static async Task<string> ReferenceAsync(string strategy)
    {
        var made = References.GetOrAdd(strategy, MakeReferenceAsync);
        try
        {
            return await made;
        }
        catch
        {
            References.TryRemove(new KeyValuePair<string, Task<string>>(strategy, made));
            throw;
        }
    }

    private static Task<string> MakeReferenceAsync(string s) =>
        Task.Run(async () =>
        {
            await using var lab = await ProcessLab.StartAsync(firstAddress: 81);
            var plan = lab.WritePlan(s);
            using var cli = lab.StartCli("run", plan);
            var code = await cli.WaitForExitAsync(TimeSpan.FromMinutes(3));
            code.ShouldBe(0, cli.Output);
            await lab.WaitServingAsync(s == "rolling" ? ProcessLab.Blue : ProcessLab.Green);
            lab.FailedClientOperations.ShouldBe(0, string.Join(", ", lab.ClientOperations));
            return await lab.EndStateAsync();
        });

    /// <summary>
    /// Runs the plan, interrupting it at step 1, then resuming and interrupting at step 2, and so on until a
    /// resume finishes before its point is reached. Returns the number of interruptions.
    /// </summary>
    private async Task<int> InterruptAtEveryStepAsync(ProcessLab lab, string plan, Point kind)
    {
        var interruptions = 0;
        var skipped = new List<int>();
        for (var expected = 1; ; )
        {
            var lines = lab.JournalLines();
            var record = kind == Point.KillAfterStep ? "step-succeeded" : "step-started";
            // The next step this process has not reached yet. A step that ended between the previous signal and
            // the process's death (a step of a few milliseconds) is not reached again; it is listed.
            var reached = lines
                .Where(l =>
                    IsForward(l) && (l.Type == record || (record == "step-succeeded" && l.Type == "step-verified"))
                )
                .Select(l => l.Step!.Value)
                .DefaultIfEmpty(0)
                .Max();
            var step = reached + 1;
            skipped.AddRange(Enumerable.Range(expected, Math.Max(0, step - expected)));
            expected = step + 1;

            var seen = lines.Count;
            using var cli = lab.StartCli(interruptions == 0 ? "run" : "resume", plan);
            var signal = kind == Point.SignalInsideStep ? Signals[step % Signals.Length] : "KILL";
            if (!await InterruptAsync(lab, cli, seen, (record, step), signal))
            {
                // The run finished before it reached the next step: every step has been interrupted once.
                var last = await cli.WaitForExitAsync(TimeSpan.FromMinutes(3));
                last.ShouldBe(0, cli.Output + "\n" + lab.NodeDiagnostics());
                output.WriteLine(
                    $"finished at step {step}; steps passed by a late signal: {string.Join(", ", skipped.DefaultIfEmpty())}"
                );
                return interruptions;
            }

            var code = await cli.WaitForExitAsync(TimeSpan.FromMinutes(2));
            if (code == 0 && lab.JournalLines()[^1].Type == "run-finished")
            {
                // A safe stop asked for in the last step: the next safe point is the end, and the run is done. A
                // SIGKILL sent as the last step (a few milliseconds) started can land after the process exited.
                cli.Output.ShouldContain("SUCCEEDED");
                output.WriteLine($"SIG{signal} in the last step {step}: the run finished first; late: {skipped.Count}");
                return signal == "KILL" ? interruptions : interruptions + 1;
            }

            code.ShouldBe(signal == "KILL" ? 137 : 130, $"step {step}, SIG{signal}:\n{cli.Output}");
            if (signal != "KILL")
            {
                lab.JournalLines()[^1].Type.ShouldBe("run-finished", cli.Output);
                cli.Output.ShouldContain("rollingupgrade resume");
            }

            interruptions++;
        }
    }

    /// <summary>
    /// Waits until the journal has <paramref name="point"/> (forward phase) after line <paramref name="seen"/>,
    /// then sends the signal. False when the CLI exited first.
    /// </summary>
    private static async Task<bool> InterruptAsync(
        ProcessLab lab,
        ChildProcess cli,
        int seen,
        (string Type, int Step) point,
        string signal
    )
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var lines = lab.JournalLines();
            if (
                lines
                    .Skip(seen)
                    .Any(l =>
                        (l.Type == point.Type || (point.Type == "step-succeeded" && l.Type == "step-verified"))
                        && l.Step == point.Step
                        && IsForward(l)
                    )
            )
            {
                using var kill = Process.Start("kill", ["-s", signal, cli.Id.ToString(CultureInfo.InvariantCulture)])!;
                await kill.WaitForExitAsync();
                return true;
            }

            if (cli.HasExited)
            {
                return false;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"step {point.Step} never reached {point.Type}:\n{cli.Output}");
            }

            await Task.Delay(2);
        }
    }

    private static bool IsForward((string Type, string? Phase, int? Step) line) =>
        line.Step is not null && line.Phase is null or "forward";

    /// <summary>Resumes until the run says it is done (a resume after the last step is a no-op that says so).</summary>
    private static async Task FinishAsync(ProcessLab lab, string plan)
    {
        using var cli = lab.StartCli("resume", plan);
        var code = await cli.WaitForExitAsync(TimeSpan.FromMinutes(3));
        code.ShouldBe(0, cli.Output);
    }
}
