using System.Net;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Toml;
using RollingUpgrade.Plans.Validation;

namespace RollingUpgrade.LoadBalancers.Yarp.Proxy;

/// <summary>Reads the proxy's TOML config with the same strict checks and file:line:col messages as plans.</summary>
public static class ProxyOptionsLoader
{
    public static (ProxyOptions? Options, IReadOnlyList<PlanDiagnostic> Diagnostics) Load(string text, string fileName)
    {
        var parse = new List<PlanDiagnostic>();
        var root = TomlDocumentReader.Read(text, fileName, parse);
        var sink = new DiagnosticSink();
        sink.AddRange(parse);
        if (sink.HasErrors)
        {
            return (null, sink.Sorted());
        }

        var top = new TableCursor(root, string.Empty, sink);
        var admin = top.Table("admin", required: true);
        AdminOptions? adminOptions = null;
        if (admin is not null)
        {
            var listen = EndPoint(admin, "listen", required: true);
            var token = admin.String("token_env");
            if (token is not null && ValueRules.EnvName(token) is { } problem)
            {
                sink.Error(admin.LocationOf("token_env"), $"'admin.token_env' {problem}");
            }

            admin.RejectUnknownKeys();
            if (listen is not null)
            {
                adminOptions = new AdminOptions(listen, token);
                if (!adminOptions.IsLoopback && token is null)
                {
                    sink.Error(
                        admin.LocationOf("listen"),
                        "'admin.listen' is not a loopback address: set 'admin.token_env' so the admin API requires a "
                            + "bearer token"
                    );
                }
            }
        }

        var clusters = new List<ClusterOptions>();
        foreach (var table in top.TableArray("clusters", required: true))
        {
            var name = table.String("name", required: true);
            var interval = table.Duration("health_interval") ?? TimeSpan.FromSeconds(1);
            var destinations = new List<DestinationOptions>();
            foreach (var d in table.TableArray("destinations", required: true))
            {
                var dName = d.String("name", required: true);
                var host = d.String("host", required: true);
                if (host is not null && ValueRules.Host(host) is { } hostProblem)
                {
                    sink.Error(d.LocationOf("host"), $"'{d.Describe("host")}' {hostProblem}");
                }

                var http = (int?)d.Integer("http_port", min: 1, max: 65535);
                var tcp = (int?)d.Integer("tcp_port", min: 1, max: 65535);
                var weight = (int)(d.Integer("weight", min: 0, max: 1000) ?? 100);
                if (http is null && tcp is null)
                {
                    sink.Error(d.Location, $"'{d.Path}' needs http_port, tcp_port or both");
                }

                d.RejectUnknownKeys();
                if (dName is not null && host is not null)
                {
                    destinations.Add(new DestinationOptions(dName, host, http, tcp, weight));
                }
            }

            table.RejectUnknownKeys();
            if (name is not null)
            {
                clusters.Add(new ClusterOptions(name, destinations, interval));
            }
        }

        var listeners = new List<ListenerOptions>();
        foreach (var table in top.TableArray("listeners", required: true))
        {
            var kind = table.Choice("kind", ["http", "tcp"], required: true);
            var listen = EndPoint(table, "listen", required: true);
            var cluster = table.String("cluster", required: true);
            if (cluster is not null && clusters.All(c => c.Name != cluster))
            {
                sink.Error(
                    table.LocationOf("cluster"),
                    $"'{table.Describe("cluster")}' names cluster '{cluster}', which is not declared"
                        + $"{Suggestions.DidYouMean(cluster, clusters.Select(c => c.Name))}"
                );
            }

            table.RejectUnknownKeys();
            if (kind is not null && listen is not null && cluster is not null)
            {
                listeners.Add(
                    new ListenerOptions(kind == "tcp" ? ListenerKind.Tcp : ListenerKind.Http, listen, cluster)
                );
            }
        }

        top.RejectUnknownKeys();
        return (
            sink.HasErrors || adminOptions is null ? null : new ProxyOptions(adminOptions, clusters, listeners),
            sink.Sorted()
        );
    }

    private static IPEndPoint? EndPoint(TableCursor table, string key, bool required)
    {
        var text = table.String(key, required);
        if (text is null)
        {
            return null;
        }

        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0)
        {
            return endpoint;
        }

        table.Sink.Error(
            table.LocationOf(key),
            $"'{table.Describe(key)}' is '{text}'; write ADDRESS:PORT such as \"127.0.0.1:8080\""
        );
        return null;
    }
}
