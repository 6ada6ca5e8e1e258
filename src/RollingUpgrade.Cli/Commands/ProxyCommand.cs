using RollingUpgrade.Execution;
using RollingUpgrade.LoadBalancers.Yarp.Proxy;

namespace RollingUpgrade.Cli.Commands;

/// <summary><c>rollingupgrade proxy --config FILE</c>: the embedded load balancer as a long-running process.</summary>
internal sealed class ProxyCommand(CliIO io, string path, string? metricsListen = null)
{
    public async Task<int> RunAsync()
    {
        System.Net.IPEndPoint? metrics = null;
        if (metricsListen is not null)
        {
            (metrics, var problem) = Metrics.ListenAddress.Parse(metricsListen);
            if (metrics is null)
            {
                await io
                    .Error.WriteLineAsync($"rollingupgrade: --metrics-listen '{metricsListen}': {problem}")
                    .ConfigureAwait(false);
                return ExitCodes.BadInput;
            }
        }

        if (!File.Exists(path))
        {
            await io.Error.WriteLineAsync($"{path}:1:1: proxy config not found").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var (options, diagnostics) = ProxyOptionsLoader.Load(
            await File.ReadAllTextAsync(path).ConfigureAwait(false),
            path
        );
        foreach (var diagnostic in diagnostics)
        {
            await io.Error.WriteLineAsync(diagnostic.ToString()).ConfigureAwait(false);
        }

        if (options is null)
        {
            return ExitCodes.BadInput;
        }

        var token = options.Admin.TokenEnv is { } env ? Environment.GetEnvironmentVariable(env) : null;
        if (options.Admin.TokenEnv is not null && string.IsNullOrEmpty(token))
        {
            await io
                .Error.WriteLineAsync(
                    $"{path}: admin.token_env names {options.Admin.TokenEnv}, which is not set; set it to the admin "
                        + $"API's bearer token"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        io.Logging.Redactor.Add(token);
        if (!io.Logging.Configured)
        {
            // A long-running proxy tells what it does (startup, listener errors, admin calls) on stderr.
            io.Logging.Configure(null, verbose: false, io.Error, Microsoft.Extensions.Logging.LogLevel.Information);
        }

        using var log = new Logging.QueuedLoggerFactory(io.Logging.Factory);
        await using var proxy = EmbeddedProxy.Build(options, token, log, metrics);
        await proxy.StartAsync().ConfigureAwait(false);
        var listeners = options.Listeners.Select(l =>
            $"{l.Kind.ToString().ToLowerInvariant()} {l.Listen} -> {l.Cluster}"
        );
        await io
            .Output.WriteLineAsync(
                $"proxy running: admin API on http://{options.Admin.Listen}/v1/clusters, metrics on "
                    + $"http://{metrics ?? options.Admin.Listen}/metrics; {string.Join(", ", listeners)}"
            )
            .ConfigureAwait(false);
        await proxy.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        return ExitCodes.Done;
    }
}
