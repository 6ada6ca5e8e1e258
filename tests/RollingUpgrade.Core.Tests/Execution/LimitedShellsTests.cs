using RollingUpgrade.Execution;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests.Execution;

/// <summary>access.max_parallel_commands: however many steps run at once, at most that many commands do.</summary>
public sealed class LimitedShellsTests
{
    [Fact(Timeout = 30_000)]
    public async Task No_more_commands_run_at_once_than_the_limit_and_each_one_runs()
    {
        var inner = new CountingShells();
        var shells = new LimitedShells(inner, limit: 3);
        var nodes = Enumerable
            .Range(1, 12)
            .Select(i => new NodeSpec($"n{i}", $"127.0.0.{10 + i}", $"n{i}@host", new Dictionary<string, string>()))
            .ToList();

        await Task.WhenAll(
            nodes.Select(async n =>
            {
                await using var shell = shells.For(n);
                (
                    await shell.RunAsync(["true"], new CommandOptions(TimeSpan.FromSeconds(5), false), default)
                ).ExitCode.ShouldBe(0);
            })
        );

        inner.Ran.ShouldBe(12);
        inner.MostAtOnce.ShouldBe(3);
    }

    private sealed class CountingShells : IShellFactory
    {
        private int _now;
        private int _most;
        private int _ran;

        public int MostAtOnce => _most;

        public int Ran => _ran;

        public INodeShell For(NodeSpec node) => new Shell(this);

        private sealed class Shell(CountingShells owner) : INodeShell
        {
            public async Task<CommandResult> RunAsync(
                IReadOnlyList<string> argv,
                CommandOptions options,
                CancellationToken cancellationToken
            )
            {
                var now = Interlocked.Increment(ref owner._now);
                int most;
                do
                {
                    most = Volatile.Read(ref owner._most);
                } while (now > most && Interlocked.CompareExchange(ref owner._most, now, most) != most);

                await Task.Delay(50, cancellationToken);
                Interlocked.Decrement(ref owner._now);
                Interlocked.Increment(ref owner._ran);
                return new CommandResult(0, string.Empty, string.Empty, TimeSpan.Zero);
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
