using System.Text.RegularExpressions;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests.Lab.Faults;

/// <summary>
/// One scenario on a <see cref="ContainerCluster"/> of its own: XMPP clients and HTTP requests through HAProxy, a
/// rolling upgrade to 24.0 run by the tool as a process, a fault injected when the run reaches a step, and the
/// checks that the run ended safe. Each scenario is a test class of its own, so that scenarios run side by side.
/// </summary>
public abstract class ContainerScenario(ITestOutputHelper output)
{
    /// <summary>The node every fault hits: the first one the rolling upgrade takes.</summary>
    protected const string Faulted = "ej1";

    protected const int Clients = 10;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>
    /// Starts a cluster, the client load and the run; <paramref name="fault"/> is called with the cluster, the plan's
    /// step numbers and the run's process, and injects its fault when it sees fit. Returns when the run has ended.
    /// </summary>
    protected async Task<ScenarioRun> RunAsync(
        string name,
        Func<ContainerCluster, IReadOnlyDictionary<(string Kind, string Node), int>, ChildProcess, Task> fault,
        int installDelaySeconds = 0,
        bool parallel = false
    )
    {
        var cluster = await ContainerCluster.StartAsync(name + Guid.NewGuid().ToString("N")[..6], green: parallel);
        var load = new LoadDriver();
        try
        {
            load.Start(cluster.HAProxyAddress, 5222, Users(1, Clients), "localhost", 5280, "/api/status", 5);
            await load.WaitAllLoggedInAsync(Clients, TimeSpan.FromMinutes(2));
            var plan = cluster.WritePlan(parallel, installDelaySeconds);
            var steps = await cluster.StepsAsync(plan);
            var cli = cluster.StartCli("run", plan);
            await fault(cluster, steps, cli);
            var code = await cli.WaitForExitAsync(TimeSpan.FromMinutes(5));
            Output.WriteLine($"exit code {code}\n{cli.Output}");
            return new ScenarioRun(cluster, load, code, cli.Output, steps);
        }
        catch
        {
            await load.DisposeAsync();
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the run prints that step <paramref name="number"/> started.</summary>
    protected static Task StartedAsync(ChildProcess cli, int number) =>
        LineAsync(cli, new Regex($@" \[{number}/\d+\] (?!done|FAILED|already done).* \.\.\.$", RegexOptions.Multiline));

    /// <summary>Waits until the run prints that step <paramref name="number"/> succeeded.</summary>
    protected static Task SucceededAsync(ChildProcess cli, int number) =>
        LineAsync(cli, new Regex($@" \[{number}/\d+\] done$", RegexOptions.Multiline));

    private static async Task LineAsync(ChildProcess cli, Regex line)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!line.IsMatch(cli.Output.Replace("\r", string.Empty, StringComparison.Ordinal)))
        {
            cli.HasExited.ShouldBeFalse($"the run ended before {line}:\n{cli.Output}");
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no line {line}:\n{cli.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The run halted and left the cluster serving: exit code 1, halted at one of <paramref name="kinds"/> of the
    /// faulted node with the next step printed; the journal whole (every line parses), with the failed step and
    /// every step the run reported done; the faulted node out of rotation in HAProxy, every other node running and
    /// serving there; and a new client logs in through HAProxy.
    /// </summary>
    protected async Task EndedSafeAsync(ScenarioRun run, params string[] kinds)
    {
        run.Code.ShouldBe(1, run.Output);
        var halted = Regex.Match(run.Output, @"^HALTED: step (\d+) ", RegexOptions.Multiline);
        halted.Success.ShouldBeTrue(run.Output);
        var failed = int.Parse(halted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        kinds.Select(k => run.Steps[(k, Faulted)]).ShouldContain(failed, $"halted at step {failed}");
        run.Output.ShouldContain("\nnext: fix the cause on ej1, then `rollingupgrade resume ");

        var records = run.Cluster.JournalRecords();
        records.ShouldContain(r => Is(r, "step-failed", failed), "the failed step in the journal");
        var done = Regex
            .Matches(run.Output, @" \[(\d+)/\d+\] done$", RegexOptions.Multiline)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        foreach (var step in done)
        {
            records.ShouldContain(r => Is(r, "step-succeeded", step), $"step {step} reported done, in the journal");
        }

        var others = ContainerCluster.Nodes.Where(n => n != Faulted).ToList();
        await ContainerCluster.WaitAsync(
            async () =>
            {
                var servers = await run.Cluster.ServersAsync();
                return !servers[Faulted].Ready && others.All(n => servers[n].Serving);
            },
            $"{Faulted} out of rotation and {string.Join(", ", others)} serving in HAProxy"
        );
        foreach (var node in others)
        {
            var (code, status) = await run.Cluster.StatusAsync(node);
            code.ShouldBe(0, status);
            status.ShouldContain("is started");
        }

        await using var newcomer = new LoadDriver();
        newcomer.Start(run.Cluster.HAProxyAddress, 5222, Users(Clients + 1, Clients + 2), "localhost", 5280, "/", 1);
        await newcomer.WaitAllLoggedInAsync(2, TimeSpan.FromMinutes(1));
        Output.WriteLine($"client load during the run:\n{run.Load.Summary()}");
    }

    private static bool Is(System.Text.Json.JsonElement record, string type, int step) =>
        record.GetProperty("type").GetString() == type
        && record.TryGetProperty("step", out var number)
        && number.GetInt32() == step;

    protected static List<(string, string)> Users(int from, int to) =>
        Enumerable.Range(from, to - from + 1).Select(i => ($"user{i}", $"pw-user{i}")).ToList();
}

/// <summary>A scenario's cluster, client load, and the run's exit code and output; disposing removes the cluster.</summary>
public sealed record ScenarioRun(
    ContainerCluster Cluster,
    LoadDriver Load,
    int Code,
    string Output,
    IReadOnlyDictionary<(string Kind, string Node), int> Steps
) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Load.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
