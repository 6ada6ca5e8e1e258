using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// MongooseIM's admin GraphQL API over HTTP (6.x, a <c>mongoose_graphql_handler</c> with
/// <c>schema_endpoint = "admin"</c>, such as http://{host}:5551/api/graphql): <c>POST</c> of
/// <c>{"query", "variables"}</c>, answered with <c>{"data"}</c> or <c>{"errors"}</c>. The same commands as the GraphQL
/// CLI, a few milliseconds each instead of a VM started on the node. A call returns null when the API cannot be
/// reached, so the caller can use the control command instead; any other failure throws, naming what to change.
/// </summary>
internal sealed class MongooseGraphQlApi
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly Plan _plan;
    private readonly ICommandValues _values;
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _auth;

    public MongooseGraphQlApi(Plan plan, HttpMessageHandler? handler = null, ICommandValues? values = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        _values = values ?? CommandValues.BeforeRun(plan);
        _http = new HttpClient(
            handler
                ?? new SocketsHttpHandler
                {
                    PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                    ConnectTimeout = CallTimeout,
                },
            disposeHandler: handler is null
        )
        {
            Timeout = Timeout.InfiniteTimeSpan,

            // listSessions of a large cluster is megabytes; a node answering without end is refused.
            MaxResponseContentBufferSize = 64L * 1024 * 1024,
        };
        _auth = EjabberdApi.AuthFor(plan);
    }

    /// <summary>
    /// Runs a query or mutation and returns its <c>data.{category}.{command}</c>; null when the API cannot be reached.
    /// </summary>
    public async Task<JsonElement?> CallAsync(
        NodeSpec node,
        string category,
        string command,
        string query,
        object? variables,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        var url = EjabberdApi.UrlFor(_plan, _values, node);
        var what = $"{category} {command}";
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(
                JsonSerializer.Serialize(new { query, variables = variables ?? new { } }),
                Encoding.UTF8,
                "application/json"
            ),
        };
        request.Headers.Authorization = _auth;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        HttpResponseMessage response;
        string body;
        try
        {
            response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
            when (e.InnerException is SocketException or IOException
                || e.HttpRequestError is HttpRequestError.ConnectionError
            )
        {
            return null;
        }
        catch (HttpRequestException e)
        {
            throw new UnexpectedAnswerException(
                $"MongooseIM's GraphQL API on {node.Name} gave no usable answer to '{what}': {e.Message}"
            );
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new UnexpectedAnswerException(
                    $"MongooseIM's GraphQL API on {node.Name} refused '{what}' ({(int)response.StatusCode}); set "
                        + $"product.api_user and product.api_password_env to the admin user and password of its "
                        + $"mongoose_graphql_handler (schema_endpoint = \"admin\"), or remove product.api_url"
                );
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new UnexpectedAnswerException(
                    $"nothing serves MongooseIM's GraphQL API at {url} (404 for {node.Name}); check product.api_url "
                        + $"(the admin listener's path, such as http://{{host}}:5551/api/graphql)"
                );
            }

            try
            {
                using var document = JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
                throw new UnexpectedAnswerException(
                    $"MongooseIM's GraphQL API on {node.Name} answered '{what}' with something that is not JSON ("
                        + $"{(int)response.StatusCode}): '{ErlangTerms.Shorten(body.Trim())}'"
                );
            }

            // The GraphQL CLI prints the same document: its reading (errors, then data.category.command) is shared.
            return GraphQlCliResult.Data(body, what, category, command);
        }
    }
}
