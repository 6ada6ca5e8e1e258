using System.Net;
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
internal sealed class MongooseGraphQlApi(Plan plan, HttpMessageHandler? handler = null, ICommandValues? values = null)
{
    private readonly ICommandValues _values = values ?? CommandValues.BeforeRun(plan);
    private readonly NodeHttpApi _http = new(plan, "MongooseIM's GraphQL API", handler);

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
        var url = EjabberdApi.UrlFor(plan, _values, node);
        var what = $"{category} {command}";
        if (
            await _http
                .PostAsync(url, new { query, variables = variables ?? new { } }, node, what, cancellationToken)
                .ConfigureAwait(false)
            is not var (status, body)
        )
        {
            return null;
        }

        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new UnexpectedAnswerException(
                $"MongooseIM's GraphQL API on {node.Name} refused '{what}' ({(int)status}); set "
                    + $"product.api_user and product.api_password_env to the admin user and password of its "
                    + $"mongoose_graphql_handler (schema_endpoint = \"admin\"), or remove product.api_url"
            );
        }

        if (status == HttpStatusCode.NotFound)
        {
            throw new UnexpectedAnswerException(
                $"nothing serves MongooseIM's GraphQL API at {url} (404 for {node.Name}); check product.api_url "
                    + $"(the admin listener's path, such as http://{{host}}:5551/api/graphql)"
            );
        }

        _ = _http.Json(body, status, node, what);

        // The GraphQL CLI prints the same document: its reading (errors, then data.category.command) is shared.
        return GraphQlCliResult.Data(body, what, category, command);
    }
}
