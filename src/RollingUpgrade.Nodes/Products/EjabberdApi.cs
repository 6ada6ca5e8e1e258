using System.Net;
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
    private readonly Plan _plan;
    private readonly ICommandValues _values;
    private readonly NodeHttpApi _http;

    public EjabberdApi(Plan plan, HttpMessageHandler? handler = null, ICommandValues? values = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        _values = values ?? CommandValues.BeforeRun(plan);
        _http = new NodeHttpApi(plan, "ejabberd's HTTP API", handler);
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
        if (
            await _http.PostAsync(url, arguments ?? new { }, node, command, cancellationToken).ConfigureAwait(false)
            is not var (status, body)
        )
        {
            return null;
        }

        Refused(node, command, url, status, body);
        var answer = _http.Json(body, status, node, command);
        if ((int)status is < 200 or > 299)
        {
            throw new UnexpectedAnswerException(
                $"ejabberd's HTTP API on {node.Name} failed '{command}' ({(int)status}): {Shorten(body)}"
            );
        }

        return answer;
    }

    /// <summary>
    /// Runs <paramref name="command"/>, whose answer is a JSON list, and hands each item to
    /// <paramref name="select"/> as the list arrives, keeping what it returns: a cluster's whole session list is never
    /// held at once. Null when the API is not reachable.
    /// </summary>
    public async Task<List<T>?> ListAsync<T>(
        NodeSpec node,
        string command,
        Func<JsonElement, T?> select,
        CancellationToken cancellationToken
    )
        where T : class
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(select);
        var url = $"{BaseUrl(node)}/{command}";
        var answer = await _http
            .PostAsync(
                url,
                new { },
                node,
                command,
                async (response, token) =>
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        var body = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
                        Refused(node, command, url, response.StatusCode, body);
                        throw new UnexpectedAnswerException(
                            $"ejabberd's HTTP API on {node.Name} failed '{command}' ({(int)response.StatusCode}): "
                                + Shorten(body)
                        );
                    }

                    var kept = new List<T>();
                    var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                    try
                    {
                        await foreach (
                            var item in JsonSerializer
                                .DeserializeAsyncEnumerable<JsonElement>(stream, cancellationToken: token)
                                .ConfigureAwait(false)
                        )
                        {
                            if (select(item) is { } selected)
                            {
                                kept.Add(selected);
                            }
                        }
                    }
                    catch (JsonException e)
                    {
                        throw new UnexpectedAnswerException(
                            $"ejabberd's HTTP API on {node.Name} answered '{command}' with something that is not a "
                                + $"JSON list ({e.Message})"
                        );
                    }

                    return new Listed<T>(kept);
                },
                cancellationToken
            )
            .ConfigureAwait(false);
        return answer?.Items;
    }

    /// <summary>Throws, naming what to change, when the API refused the call or does not know the command.</summary>
    private static void Refused(NodeSpec node, string command, string url, HttpStatusCode status, string body)
    {
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new UnexpectedAnswerException(
                $"ejabberd's HTTP API on {node.Name} refused '{command}' ({(int)status}: "
                    + $"{Shorten(body)}); allow it for this machine in ejabberd's api_permissions, set "
                    + $"product.api_user and product.api_password_env, or remove product.api_url"
            );
        }

        if (status == HttpStatusCode.NotFound)
        {
            throw new UnexpectedAnswerException(
                $"ejabberd's HTTP API on {node.Name} does not know '{command}' (404 at {url}); check "
                    + $"product.api_url (it should end in the /api path that mod_http_api serves) and that "
                    + $"mod_admin_extra is enabled"
            );
        }
    }

    private readonly record struct Listed<T>(List<T> Items);

    private static string Shorten(string text) => ErlangTerms.Shorten(text.Trim());
}
