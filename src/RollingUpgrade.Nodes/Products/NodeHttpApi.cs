using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// A product's HTTP API on each node (ejabberd's mod_http_api, MongooseIM's admin GraphQL endpoint): a JSON body
/// posted with the plan's basic auth, the answer read whole. Null when the API cannot be reached (refused, reset,
/// timed out), so the caller can ask the control command instead.
/// </summary>
internal sealed class NodeHttpApi
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _auth;
    private readonly string _product;

    /// <param name="product">How messages name the API, such as "ejabberd's HTTP API".</param>
    public NodeHttpApi(Plan plan, string product, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _product = product;
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

            // A large cluster's session list is megabytes; a node answering without end is refused.
            MaxResponseContentBufferSize = 64L * 1024 * 1024,
        };
        _auth =
            plan.Product.ApiUser is { } user && plan.Product.ApiPasswordEnv is { } env
                ? new AuthenticationHeaderValue(
                    "Basic",
                    Convert.ToBase64String(
                        Encoding.UTF8.GetBytes($"{user}:{Environment.GetEnvironmentVariable(env) ?? string.Empty}")
                    )
                )
                : null;
    }

    /// <summary>Posts <paramref name="payload"/> as JSON; the status and body, or null when unreachable.</summary>
    public async Task<(HttpStatusCode Status, string Body)?> PostAsync(
        string url,
        object payload,
        NodeSpec node,
        string what,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(payload), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = _auth;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return (response.StatusCode, body);
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
                $"{_product} on {node.Name} gave no usable answer to '{what}': {e.Message}"
            );
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The body as JSON, or an error naming the node when it is something else.</summary>
    public JsonElement Json(string body, HttpStatusCode status, NodeSpec node, string what)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new UnexpectedAnswerException(
                $"{_product} on {node.Name} answered '{what}' with something that is not JSON ({(int)status}): "
                    + $"'{ErlangTerms.Shorten(body.Trim())}'"
            );
        }
    }
}
