using System.Net;
using System.Text;
using RollingUpgrade.Demo;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Ports;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// ejabberd's HTTP API answering garbage, refusals and oversize bodies: a clear error, never a wrong reading.
/// </summary>
public sealed class EjabberdApiAnswerTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly int _port = LoopbackPorts.Free();
    private readonly CancellationTokenSource _stop = new();
    private (int Status, string Body) _answer = (200, "{}");

    public EjabberdApiAnswerTests()
    {
        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                var bytes = Encoding.UTF8.GetBytes(_answer.Body);
                context.Response.StatusCode = _answer.Status;
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }

    private (EjabberdProduct Product, Plans.Model.NodeSpec Node) Build()
    {
        var text = $$"""
            [cluster]
            name = "c"

            [[nodes]]
            name = "n1"
            host = "127.0.0.1"
            erlang_node = "ej@h1"

            [[nodes]]
            name = "n2"
            host = "127.0.0.2"
            erlang_node = "ej@h2"

            [access]
            kind = "local"

            [product]
            kind = "ejabberd"
            ctl = ["/bin/false"]
            api_url = "http://{host}:{{_port}}/api"

            [upgrade]
            target_version = "24.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var plan = PlanLoader.Load(text, "c.toml").Plan!;
        return (new EjabberdProduct(plan, new ShellFactory(plan), TimeProvider.System), plan.Nodes[0]);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(200, "<html>502 Bad Gateway</html>", "not JSON")]
    [InlineData(200, "{\"res\": 42}", "not a text result")]
    [InlineData(
        403,
        "{\"status\":\"error\",\"code\":32,\"message\":\"AccessRules: Account does not have the right to perform the "
            + "operation.\"}",
        "api_permissions"
    )]
    [InlineData(500, "{\"status\":\"error\",\"message\":\"internal\"}", "failed 'mnesia_info' (500)")]
    [InlineData(200, "\"[{db_nodes,[a@b]}]\"", "no db_nodes/running_db_nodes")]
    public async Task Garbage_from_the_api_is_an_error_naming_what_came_back(int status, string body, string expected)
    {
        var (product, node) = Build();
        _answer = (status, body);

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.MembershipAsync(node, CancellationToken.None)
        );

        error.Message.ShouldContain(expected);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("{\"stat\": -3}")]
    [InlineData("{\"stat\": \"many\"}")]
    [InlineData("[]")]
    public async Task A_session_count_that_is_not_a_count_is_refused(string body)
    {
        var (product, node) = Build();
        _answer = (200, body);

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.SessionCountAsync(node, CancellationToken.None)
        );

        error.Message.ShouldContain("not {\"stat\": N}");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_session_list_without_nodes_is_refused_before_anyone_is_kicked()
    {
        var (product, node) = Build();
        _answer = (200, "[{\"jid\": \"alice@localhost/phone\"}]");

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.EvictSessionsAsync(node, 5, CancellationToken.None)
        );

        error.Message.ShouldContain("without jid and node");
    }
}
