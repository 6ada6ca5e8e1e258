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
/// posted with the plan's basic auth, the answer read whole or as it arrives. Null when the API cannot be reached
/// (refused, reset, timed out), so the caller can ask the control command instead.
/// </summary>
internal sealed class NodeHttpApi
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most of an answer read whole: a large cluster's session list is megabytes (and is read as it arrives); a
    /// node answering without end is refused.
    /// </summary>
    private const long MaxBody = 64L * 1024 * 1024;

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
    ) =>
        await PostAsync<(HttpStatusCode, string)>(
                url,
                payload,
                node,
                what,
                async (response, token) =>
                {
                    await response.Content.LoadIntoBufferAsync(MaxBody, token).ConfigureAwait(false);
                    return (response.StatusCode, await response.Content.ReadAsStringAsync(token).ConfigureAwait(false));
                },
                cancellationToken
            )
            .ConfigureAwait(false);

    /// <summary>
    /// Posts <paramref name="payload"/> as JSON and hands the answer to <paramref name="read"/> as soon as its headers
    /// are in, so a long body can be read as it arrives (within the same time limit); null when unreachable.
    /// </summary>
    public async Task<T?> PostAsync<T>(
        string url,
        object payload,
        NodeSpec node,
        string what,
        Func<HttpResponseMessage, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken
    )
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(read);
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(payload), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = _auth;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        try
        {
            using var response = await _http
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                .ConfigureAwait(false);
            return await read(response, timeout.Token).ConfigureAwait(false);
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
        catch (IOException)
        {
            return null; // The connection broke while the body was read.
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
