using RollingUpgrade.Cli;

namespace RollingUpgrade.Tests;

/// <summary>Plans of kind "haproxy" are checked against the live HAProxy before anything runs.</summary>
public sealed class HAProxyPlanTests : IAsyncLifetime
{
    private HAProxyFixture _haproxy = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _haproxy = new HAProxyFixture();
        _folder = Directory.CreateTempSubdirectory("ru-plan-").FullName;
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _haproxy.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private string Plan(string backends, string thirdServer, string? thirdIds = null, string? socket = null)
    {
        var nodes = string.Join(
            "\n",
            new[] { "ej1", "ej2", thirdServer }.Select(
                (s, i) =>
                    $"[[nodes]]\nname = \"n{i + 1}\"\nhost = \"127.0.0.{11 + i}\"\nerlang_node = \"ejabberd"
                    + $"{i + 1}@127.0.0.{11 + i}\"\nlb_ids = {{ edge = {(i == 2 && thirdIds is not null ? thirdIds : $"\"{s}\"")} }}\n"
            )
        );
        var text = $"""
            [cluster]
            name = "live"

            {nodes}
            [access]
            kind = "local"

            [product]
            kind = "generic"
            [product.commands]
            status = "true"
            stop = "true"
            start = "true"

            [[load_balancers]]
            name = "edge"
            kind = "haproxy"
            sockets = ["{socket ?? _haproxy.Primary.SocketPath}"]
            backends = {backends}

            [upgrade]
            target_version = "2.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 2
            """;
        var path = Path.Combine(_folder, "plan.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<(int ExitCode, string Output, string Error)> ValidateAsync(string path)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(["validate", path], output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Validate_accepts_backends_and_servers_that_exist()
    {
        var path = Plan("[\"be_xmpp\", \"be_http\"]", "ej3");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(["validate", path], output, error);

        code.ShouldBe(0, error.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Validate_reports_an_unknown_backend_and_server_at_their_lines()
    {
        var path = Plan("[\"be_xmpp\", \"be_htpp\"]", "ej9");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(["validate", path], output, error);

        code.ShouldBe(2);
        var text = error.ToString();
        text.ShouldContain($"{path}:36:1: edge: HAProxy at");
        text.ShouldContain("has no backend 'be_htpp'; did you mean 'be_http'?");
        text.ShouldContain($"{path}:20:");
        text.ShouldContain("node 'n3': HAProxy at");
        text.ShouldContain("has no server 'ej9' in backend 'be_xmpp'");
        text.ShouldContain("nothing was touched");
    }

    [Fact(Timeout = 60_000)]
    public async Task Validate_reports_a_node_missing_from_one_backend_with_a_suggestion()
    {
        var renamed = _haproxy.AddRenamed("ws", new Dictionary<string, string> { ["ej3"] = "ej-3" });
        var path = Plan("[\"be_xmpp\", \"be_http\"]", "ej3", socket: renamed.SocketPath);

        var result = await ValidateAsync(path);

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldContain($"{path}:20:");
        result.Error.ShouldContain("node 'n3': HAProxy at");
        result.Error.ShouldContain("has no server 'ej3' in backend 'be_http'; did you mean 'ej-3'?");
        result.Error.ShouldNotContain("in backend 'be_xmpp'");
    }

    [Fact(Timeout = 60_000)]
    public async Task Validate_accepts_per_backend_server_names()
    {
        var renamed = _haproxy.AddRenamed("ws", new Dictionary<string, string> { ["ej3"] = "ej-3" });
        var path = Plan(
            "[\"be_xmpp\", \"be_http\"]",
            "ej3",
            thirdIds: "{ be_xmpp = \"ej3\", be_http = \"ej-3\" }",
            socket: renamed.SocketPath
        );

        var result = await ValidateAsync(path);

        result.ExitCode.ShouldBe(0, result.Output + result.Error);
    }
}
