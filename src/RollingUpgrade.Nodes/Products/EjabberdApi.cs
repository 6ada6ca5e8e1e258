using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>
/// ejabberd's HTTP API (mod_http_api): <c>POST {api_url}/{command}</c> with the command's
/// arguments as a JSON object, answered with JSON. A call returns null when the API cannot be
/// reached (refused, reset, timed out), so the caller can ask the control command instead; an
/// answer that is not a success throws, naming what to change.
/// </summary>
internal sealed class EjabberdApi
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly Plan _plan;
    private readonly ICommandValues _values;
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _auth;

    public EjabberdApi(Plan plan, HttpMessageHandler? handler = null, ICommandValues? values = null)
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

            // connected_users_info of a large cluster is megabytes; a node answering without end is refused.
            MaxResponseContentBufferSize = 64L * 1024 * 1024,
        };
        _auth = AuthFor(plan);
    }

    /// <summary>
    /// The API's base URL for <paramref name="node"/>, without a trailing slash; an IPv6 {host} is bracketed.
    /// </summary>
    public string BaseUrl(NodeSpec node) => UrlFor(_plan, _values, node);

    /// <summary>
    /// <c>product.api_url</c> for <paramref name="node"/>, with its values (an IPv6 {host} in brackets).
    /// </summary>
    internal static string UrlFor(Plan plan, ICommandValues values, NodeSpec node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var forNode = new Dictionary<string, string>(values.For(node), StringComparer.Ordinal);
        if (forNode["host"].Contains(':', StringComparison.Ordinal) && !forNode["host"].StartsWith('['))
        {
            forNode["host"] = $"[{forNode["host"]}]";
        }

        return CommandTemplate.RenderText(plan.Product.ApiUrl!, forNode).TrimEnd('/');
    }

    /// <summary>Basic auth from <c>product.api_user</c> and <c>api_password_env</c>; null without them.</summary>
    internal static AuthenticationHeaderValue? AuthFor(Plan plan) =>
        plan.Product.ApiUser is { } user && plan.Product.ApiPasswordEnv is { } env
            ? new AuthenticationHeaderValue(
                "Basic",
                Convert.ToBase64String(
                    Encoding.UTF8.GetBytes($"{user}:{Environment.GetEnvironmentVariable(env) ?? string.Empty}")
                )
            )
            : null;

    /// <summary>
    /// Runs <paramref name="command"/> on <paramref name="node"/>; null when the API is not reachable.
    /// </summary>
    public async Task<JsonElement?> CallAsync(
        NodeSpec node,
        string command,
        object? arguments,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(node);
        var url = $"{BaseUrl(node)}/{command}";
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(
                JsonSerializer.Serialize(arguments ?? new { }),
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
                $"ejabberd's HTTP API on {node.Name} gave no usable answer to '{command}': {e.Message}"
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
                    $"ejabberd's HTTP API on {node.Name} refused '{command}' ({(int)response.StatusCode}: "
                        + $"{Shorten(body)}); allow it for this machine in ejabberd's api_permissions, set "
                        + $"product.api_user and product.api_password_env, or remove product.api_url"
                );
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new UnexpectedAnswerException(
                    $"ejabberd's HTTP API on {node.Name} does not know '{command}' (404 at {url}); check "
                        + $"product.api_url (it should end in the /api path that mod_http_api serves) and that "
                        + $"mod_admin_extra is enabled"
                );
            }

            JsonElement answer;
            try
            {
                using var document = JsonDocument.Parse(body);
                answer = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new UnexpectedAnswerException(
                    $"ejabberd's HTTP API on {node.Name} answered '{command}' with something that is not JSON ("
                        + $"{(int)response.StatusCode}): '{Shorten(body)}'"
                );
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new UnexpectedAnswerException(
                    $"ejabberd's HTTP API on {node.Name} failed '{command}' ({(int)response.StatusCode}): "
                        + $"{Shorten(body)}"
                );
            }

            return answer;
        }
    }

    private static string Shorten(string text) => ErlangTerms.Shorten(text.Trim());
}
