using System.Text.RegularExpressions;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// The CLI on a real pseudo-terminal (tmux): the demo draws its live table in place; with TERM=dumb a run prints
/// plain lines instead; NO_COLOR takes the colours away. The screens read are written to the test output.
/// </summary>
public sealed class LiveTerminalTests(ITestOutputHelper output)
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll");

    [Fact(Timeout = 240_000)]
    public async Task The_demo_on_a_terminal_shows_the_live_table_of_nodes_while_it_drains()
    {
        await using var terminal = await TmuxTerminal.StartAsync(
            $"dotnet {Cli} demo",
            environment: new Dictionary<string, string> { ["NO_COLOR"] = "1" }
        );

        var screens = await terminal.WatchAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMinutes(3));

        var draining = screens.FirstOrDefault(s =>
            s.Contains("conns @ proxy", StringComparison.Ordinal)
            && Regex.IsMatch(s, @"│ blue-\d\s+│ draining")
            && s.Contains("still waiting for", StringComparison.Ordinal)
        );
        draining.ShouldNotBeNull(string.Join("\n----\n", screens.TakeLast(5)));
        output.WriteLine($"screen during a drain ({screens.Count} distinct screens read):\n{draining}");
        draining.ShouldMatch(@"step \d+/\d+");
        draining.ShouldContain("last events");
        var cutover = screens.FirstOrDefault(s => s.Contains("traffic: old cluster", StringComparison.Ordinal));
        cutover.ShouldNotBeNull("the parallel run shows its weights");
        output.WriteLine($"screen during the cutover:\n{cutover}");
        // Drawn in place: during the first run its table appears once per screen, never stacked up as it goes on
        // (the finished table stays on screen when the second run begins).
        screens
            .Where(s => !s.Contains("== 2/2", StringComparison.Ordinal))
            .ShouldAllBe(s => Regex.Matches(s, "conns @ proxy").Count <= 1);

        var last = screens[^1];
        output.WriteLine($"last screen:\n{last}");
        last.ShouldContain("EXIT=0");
        last.ShouldContain("report: ");
        // NO_COLOR: no colour sequence reaches the terminal.
        var withEscapes = await terminal.ScreenAsync(escapes: true);
        Regex.IsMatch(withEscapes, @"\e\[(3[0-7]|38;|9[0-7])").ShouldBeFalse(withEscapes);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_run_on_a_dumb_terminal_prints_plain_lines()
    {
        using var cluster = new LocalCluster();
        var plan = cluster.WritePlan();
        await using var terminal = await TmuxTerminal.StartAsync(
            $"dotnet {Cli} run {plan}",
            environment: new Dictionary<string, string> { ["TERM"] = "dumb" }
        );

        var screens = await terminal.WatchAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMinutes(1));

        var last = screens[^1];
        output.WriteLine(last);
        last.ShouldContain("EXIT=0");
        last.ShouldNotContain("conns @");
        last.ShouldNotContain("│");
        last.ShouldMatch(@"\[\d+/\d+\] done");
        last.ShouldContain("SUCCEEDED");
    }
}
