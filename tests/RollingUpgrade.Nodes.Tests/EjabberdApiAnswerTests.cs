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
        var plan = ApiPlan(_port);
        return (new EjabberdProduct(plan, new ShellFactory(plan), TimeProvider.System), plan.Nodes[0]);
    }

    /// <summary>Two ejabberd nodes (n1 is ej@h1) whose HTTP API is on 127.0.0.1/2 at <paramref name="port"/>.</summary>
    internal static Plans.Model.Plan ApiPlan(int port)
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
            api_url = "http://{host}:{{port}}/api"

            [upgrade]
            target_version = "24.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        return PlanLoader.Load(text, "c.toml").Plan!;
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

    [Theory(Timeout = 30_000)]
    [InlineData(200, "{\"status\":\"error\"}", "not a JSON list")]
    [InlineData(200, "[{\"jid\":\"alice@localhost/phone\",\"node\":\"ej@h1\"}, {\"jid\":", "not a JSON list")]
    [InlineData(403, "{\"status\":\"error\",\"code\":32}", "api_permissions")]
    [InlineData(500, "{\"status\":\"error\",\"message\":\"internal\"}", "failed 'connected_users_info' (500)")]
    public async Task A_session_list_that_is_not_a_list_is_an_error_naming_what_came_back(
        int status,
        string body,
        string expected
    )
    {
        var (product, node) = Build();
        _answer = (status, body);

        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.SessionsOnAsync(node, CancellationToken.None)
        );

        error.Message.ShouldContain(expected);
    }

    [Fact(Timeout = 30_000)]
    public async Task Of_a_clusters_twenty_thousand_sessions_the_nodes_own_are_kept()
    {
        var (product, node) = Build();
        _answer = (
            200,
            "["
                + string.Join(
                    ",",
                    Enumerable
                        .Range(0, 20_000)
                        .Select(i =>
                            $"{{\"jid\":\"u{i}@localhost/r{i}\",\"connection\":\"c2s\",\"node\":\"ej@h{i % 2 + 1}\"}}"
                        )
                )
                + "]"
        );

        var sessions = await product.SessionsOnAsync(node, CancellationToken.None);

        sessions.Count.ShouldBe(10_000);
        sessions.ShouldAllBe(s => s.Node == "ej@h1");
        sessions[0].ShouldBe(new EjabberdSession("u0", "localhost", "r0", "ej@h1"));
    }
}

/// <summary>ejabberd's session list is read as it arrives: the first are read before the rest is sent.</summary>
public sealed class EjabberdSessionStreamTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly int _port = LoopbackPorts.Free();

    public EjabberdSessionStreamTests()
    {
        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
    }

    public void Dispose() => _listener.Close();

    [Fact(Timeout = 30_000)]
    public async Task The_first_sessions_are_read_before_the_node_sends_the_rest()
    {
        var plan = EjabberdApiAnswerTests.ApiPlan(_port);
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serving = Task.Run(async () =>
        {
            var context = await _listener.GetContextAsync();
            context.Response.SendChunked = true;
            var output = context.Response.OutputStream;
            await output.WriteAsync(
                Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 200).Select(Session)) + ",")
            );
            await output.FlushAsync();

            // The rest once the reader has the first session: a reader that waits for the whole body never gets it.
            await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(4));
            await output.WriteAsync(
                Encoding.UTF8.GetBytes(string.Join(",", Enumerable.Range(200, 200).Select(Session)) + "]")
            );
            context.Response.Close();
        });
        var api = new EjabberdApi(plan);

        var sessions = await api.ListAsync(
            plan.Nodes[0],
            "connected_users_info",
            item =>
            {
                firstSeen.TrySetResult();
                return EjabberdSessionParser.FromJson(item);
            },
            CancellationToken.None
        );

        await serving;
        sessions.ShouldNotBeNull().Count.ShouldBe(400);
    }

    private static string Session(int i) => $"{{\"jid\":\"u{i}@localhost/r\",\"node\":\"ej@h1\"}}";
}
