using RollingUpgrade.Cli;
using RollingUpgrade.Demo;
using RollingUpgrade.Demo.Load;
using RollingUpgrade.Journaling;
using RollingUpgrade.Testing;
using Xunit.Abstractions;

namespace RollingUpgrade.Tests;

/// <summary>
/// `rollingupgrade run` against a real ejabberd cluster behind a real HAProxy, nodes reached over
/// a real sshd, with 30 XMPP clients and 20 HTTP requests per second running the whole time.
/// </summary>
public abstract class EjabberdUnderLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private UpgradeHarness _harness = null!;
    private LoadDriver _load = null!;

    protected ITestOutputHelper Output { get; } = output;

    protected UpgradeHarness Harness => _harness;

    protected LoadDriver Load => _load;

    /// <summary>HAProxy's balance algorithm for the XMPP clients.</summary>
    protected virtual string XmppBalance => "leastconn";

    public async Task InitializeAsync()
    {
        _harness = await UpgradeHarness.StartAsync(users: 30, xmppBalance: XmppBalance);
        _load = new LoadDriver();
        _load.Start(
            "127.0.0.1",
            _harness.HAProxy.TcpFrontendPort,
            _harness.Users,
            "localhost",
            _harness.HAProxy.HttpFrontendPort,
            "/api/status",
            20
        );
        await _load.WaitAllLoggedInAsync(30, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _load.DisposeAsync();
        await _harness.DisposeAsync();
    }

    protected static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
        {
            dir = dir.Parent;
        }

        return dir.FullName;
    }

    protected async Task<(int Code, string Output, string Error)> RunAsync(string plan)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["run", plan], stdout, stderr);
        Output.WriteLine(stdout.ToString());
        Output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }
}
