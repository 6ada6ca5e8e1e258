using System.Text.Json;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// <c>rollingupgrade plan</c>: the steps, serving capacity, migrations and rollback path. Touches nothing.
/// </summary>
internal sealed class PlanPreviewCommand(CliIO io, string path, string output, bool inspect, StateOptions stateOptions)
{
    public async Task<int> RunAsync()
    {
        var json = output == "json";
        var plan = await PlanFile.LoadAsync(io, path, json, inspect).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var execution = Planner.Create(plan);
        var forecast = Forecast.Create(
            plan,
            execution,
            inspect ? await LiveSessionsAsync(plan).ConfigureAwait(false) : null,
            await PastDurationsAsync(plan).ConfigureAwait(false)
        );
        var gate = await StagingAsync(plan).ConfigureAwait(false);
        if (json)
        {
            foreach (var step in execution.Steps)
            {
                await io
                    .Output.WriteLineAsync(
                        JsonSerializer.Serialize(
                            new
                            {
                                type = "step",
                                number = step.Number,
                                id = step.Id,
                                kind = step.Kind.ToString(),
                                description = step.Description,
                                nodes = step.Nodes,
                                load_balancer = step.LoadBalancer,
                                green_percent = step.GreenPercent,
                                serving_after = step.ServingAfter,
                                rollback = execution.RollbackPathAt(step.Number),
                                expected_s = forecast.For(step.Number)?.Expected.TotalSeconds,
                                worst_s = forecast.For(step.Number)?.Worst?.TotalSeconds,
                                forecast_basis = forecast.For(step.Number)?.Basis,
                            }
                        )
                    )
                    .ConfigureAwait(false);
            }

            await io
                .Output.WriteLineAsync(
                    JsonSerializer.Serialize(
                        new
                        {
                            type = "forecast",
                            expected_s = forecast.Expected.TotalSeconds,
                            worst_s = forecast.Worst?.TotalSeconds,
                            mixed_versions_expected_s = forecast.ExpectedMixed.TotalSeconds,
                            mixed_versions_worst_s = forecast.WorstMixed?.TotalSeconds,
                        }
                    )
                )
                .ConfigureAwait(false);
            if (gate is not null)
            {
                await io
                    .Output.WriteLineAsync(
                        JsonSerializer.Serialize(
                            new
                            {
                                type = "staging",
                                cluster = plan.Cluster.RequiresStaging,
                                passes = gate.Value.Passes,
                                detail = gate.Value.Text,
                            }
                        )
                    )
                    .ConfigureAwait(false);
            }

            foreach (var guide in execution.Migrations)
            {
                await io
                    .Output.WriteLineAsync(
                        JsonSerializer.Serialize(
                            new
                            {
                                type = "migration",
                                guide = guide.Name,
                                summary = guide.Summary,
                                database = guide.HasDatabaseMigration,
                                applied = plan.Upgrade.MigrationsApplied.Contains(guide.Hop),
                                rolling_supported = !guide.RollingUnsupported,
                            }
                        )
                    )
                    .ConfigureAwait(false);
            }

            return ExitCodes.Done;
        }

        var o = io.Output;
        await o.WriteLineAsync(
                $"Plan {path}: {execution.Strategy} upgrade of cluster '{plan.Cluster.Name}' to "
                    + $"{plan.Upgrade.TargetVersion}"
            )
            .ConfigureAwait(false);
        await o.WriteLineAsync(Header(plan)).ConfigureAwait(false);
        await WriteMigrationsAsync(plan, execution).ConfigureAwait(false);
        if (gate is { } staging)
        {
            await io.Output.WriteLineAsync($"  staging first: {staging.Text}").ConfigureAwait(false);
        }

        await o.WriteLineAsync().ConfigureAwait(false);
        var total = plan.Strategy is RollingStrategySpec ? plan.Nodes.Count : plan.Nodes.Count;
        var previousRollback = string.Empty;
        foreach (var step in execution.Steps)
        {
            var extra =
                plan.Strategy is RollingStrategySpec ? $"[serving {step.ServingAfter}/{total}]"
                : step.GreenPercent is { } p ? $"[blue {100 - p}% / green {p}%]"
                : string.Empty;
            var time = forecast.For(step.Number) is { } f ? $" ({Forecast.Text(f.Expected, f.Worst)})" : string.Empty;
            await o.WriteLineAsync($"{step.Number, 4}. {step.Description} {extra}".TrimEnd() + time)
                .ConfigureAwait(false);
            var rollback = execution.RollbackPathAt(step.Number);
            if (rollback != previousRollback)
            {
                await o.WriteLineAsync($"        if this fails: {rollback}").ConfigureAwait(false);
                previousRollback = rollback;
            }
        }

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync(
                $"Forecast: {Forecast.Text(forecast.Expected, forecast.Worst)} in all; mixed versions "
                    + $"{Forecast.Text(forecast.ExpectedMixed, forecast.WorstMixed)} (drains are counted at their "
                    + "timeout unless the balancers say no session is left)"
            )
            .ConfigureAwait(false);
        await o.WriteLineAsync("Nothing was touched. Run it with `rollingupgrade run " + path + "`.")
            .ConfigureAwait(false);
        return ExitCodes.Done;
    }

    /// <summary>
    /// Live connections per node summed over the load balancers, for the forecast of drains; null when a balancer
    /// cannot be read or does not count (the forecast then says the sessions are unknown).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, long>?> LiveSessionsAsync(Plan plan)
    {
        var sessions = plan.Nodes.ToDictionary(n => n.Name, _ => 0L, StringComparer.Ordinal);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            foreach (var spec in plan.LoadBalancers)
            {
                var balancer = io.Adapters.CreateLoadBalancer(spec, plan);
                foreach (var state in await balancer.ReadAsync(plan.Nodes, timeout.Token).ConfigureAwait(false))
                {
                    if (!state.ConnectionsCounted)
                    {
                        return null;
                    }

                    sessions[state.Node] = sessions.GetValueOrDefault(state.Node) + state.LiveConnections;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }

        return plan.LoadBalancers.Count == 0 ? null : sessions;
    }

    /// <summary>What version affinity does in this plan, in one line, or null when there is nothing to say.</summary>
    private static string? Affinity(Plan plan, RollingStrategySpec rolling)
    {
        if (plan.Upgrade.Install is null || plan.LoadBalancers.Count == 0)
        {
            return null;
        }

        if (!rolling.VersionAffinity)
        {
            return "  version affinity: off (strategy.version_affinity = false): clients may reconnect to nodes "
                + "not yet upgraded and be cut again";
        }

        var able = plan.LoadBalancers.Where(LoadBalancerKinds.KeepsDrainedConnections).Select(l => l.Name);
        var unable = plan.LoadBalancers.Where(l => !LoadBalancerKinds.KeepsDrainedConnections(l)).ToList();
        var line =
            "  version affinity: once a batch is upgraded, the nodes not yet upgraded take no new sessions "
            + $"(they keep theirs) in {string.Join(", ", able.DefaultIfEmpty("no balancer"))}";
        return unable.Count == 0
            ? line
            : line
                + $"; not in {string.Join(", ", unable.Select(l => l.Name))} (ELBv2 ends a deregistered target's "
                + "connections after its deregistration delay)";
    }

    private static string Header(Plan plan)
    {
        var lines = new List<string>();
        if (plan.Strategy is RollingStrategySpec rolling)
        {
            var order = rolling.Order.Count > 0 ? rolling.Order : plan.Nodes.Select(n => n.Name).ToList();
            lines.Add(
                $"  node order: {string.Join(" -> ", order)} (batches of {rolling.BatchSize}; at least "
                    + $"{rolling.CapacityNodes} of {plan.Nodes.Count} serving at every step)"
            );
            if (rolling.BatchSize > 1)
            {
                lines.Add(
                    rolling.BatchParallel
                        ? $"  batches: the nodes of a batch go through each stage together, at most "
                            + $"{plan.Access.MaxParallelCommands} commands at once (access.max_parallel_commands)"
                        : "  batches: out together, their steps one node after another (strategy.batch_parallel = "
                            + "false)"
                );
            }
            if (Affinity(plan, rolling) is { } affinity)
            {
                lines.Add(affinity);
            }
        }
        else if (plan.Strategy is ParallelStrategySpec parallel)
        {
            lines.Add(
                $"  old cluster: {string.Join(", ", plan.Nodes.Select(n => n.Name))}; new cluster: "
                    + $"{string.Join(", ", parallel.GreenNodes.Select(n => n.Name))}"
            );
            lines.Add(
                $"  traffic steps: {string.Join(" -> ", parallel.TrafficSteps.Select(p => p + "%"))}; rollback: "
                    + $"{parallel.RollbackMode.ToString().ToLowerInvariant()}"
            );
        }

        var drain = plan.Strategy.Drain;
        lines.Add(
            $"  drain: wait up to {DurationText.Format(drain.Timeout)} for zero connections ({drain.ZeroReadings} "
                + $"readings {DurationText.Format(drain.PollInterval)} apart), then "
                + $"{drain.OnTimeout.ToString().ToLowerInvariant()}"
                + $"{(drain.OnTimeout == DrainTimeoutPolicy.Evict ? $" at {drain.EvictionRate}/s" : string.Empty)}"
                + (
                    drain.WaitTakeover > TimeSpan.Zero && drain.OnTimeout != DrainTimeoutPolicy.Fail
                        ? $"; evicted sessions must come back on the serving nodes ({drain.TakeoverPercent}% within "
                            + $"{DurationText.Format(drain.WaitTakeover)})"
                        : string.Empty
                )
                + (drain.Defaulted ? " [defaults: the plan has no [strategy.drain]]" : string.Empty)
        );
        var balancers =
            plan.LoadBalancers.Count == 0
                ? "none"
                : string.Join(", ", plan.LoadBalancers.Select(l => $"{l.Name} ({l.Kind})"));
        var onFailure =
            plan.Strategy is ParallelStrategySpec
                ? "traffic goes back to the old cluster once the new one is registered"
                : plan.Rollback.ToString().ToLowerInvariant();
        lines.Add($"  load balancers: {balancers}; on failure: {onFailure}");
        return string.Join(Environment.NewLine, lines);
    }

    private async Task WriteMigrationsAsync(Plan plan, ExecutionPlan execution)
    {
        if (plan.Product.Kind != ProductKind.MongooseIm)
        {
            return;
        }

        if (plan.Upgrade.FromVersion is null)
        {
            await io
                .Output.WriteLineAsync(
                    "  migration guides: listed at run time, once the running version is read from the nodes (set "
                        + "upgrade.from_version to see them here)"
                )
                .ConfigureAwait(false);
            return;
        }

        if (execution.Migrations.Count == 0)
        {
            await io
                .Output.WriteLineAsync(
                    $"  migration guides: none between {plan.Upgrade.FromVersion} and {plan.Upgrade.TargetVersion}"
                )
                .ConfigureAwait(false);
            return;
        }

        await io
            .Output.WriteLineAsync(
                $"  migration guides {plan.Upgrade.FromVersion} -> {plan.Upgrade.TargetVersion} (apply each in order):"
            )
            .ConfigureAwait(false);
        foreach (var guide in execution.Migrations)
        {
            var confirmed = plan.Upgrade.MigrationsApplied.Contains(guide.Hop);
            var marks =
                (
                    guide.HasDatabaseMigration
                        ? confirmed
                            ? " [database migration: applied, says upgrade.migrations_applied]"
                            : " [database migration: `run` refuses until upgrade.migrations_applied lists "
                                + $"\"{guide.Hop}\"]"
                        : string.Empty
                ) + (guide.RollingUnsupported ? " [rolling upgrade not supported]" : string.Empty);
            await io.Output.WriteLineAsync($"    - {guide.Name}: {guide.Summary}{marks}").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The step durations of the cluster's last succeeded run, from the file store (a shared store only when the
    /// plan may be inspected: not with --offline); none when there is no such run or the store cannot be read.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, TimeSpan>?> PastDurationsAsync(Plan plan)
    {
        if (!inspect && (stateOptions.UrlEnv is not null || plan.State.Kind == StateSpec.Postgres))
        {
            return null;
        }

        var redactor = RunCommand.SecretsFromEnvironment(plan);
        using var quiet = new StringWriter();
        await using var store = await StateStores
            .OpenAsync(io with { Error = quiet }, plan, stateOptions, redactor)
            .ConfigureAwait(false);
        if (store is null)
        {
            return null;
        }

        try
        {
            return await RunHistory.PastDurationsAsync(store, plan.Cluster.Name).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or JournalCorruptException or BadStateException)
        {
            return null;
        }
    }

    /// <summary>
    /// cluster.requires_staging against the state store: whether `run` would start (from_version decides; without
    /// it the gate is decided once the nodes are read).
    /// </summary>
    private async Task<(bool? Passes, string Text)?> StagingAsync(Plan plan)
    {
        if (plan.Cluster.RequiresStaging is not { } staging)
        {
            return null;
        }

        var to = plan.Upgrade.TargetVersion;
        if (plan.Upgrade.FromVersion is not { } from)
        {
            return (
                null,
                $"needs a succeeded run of <running version> -> {to} on {staging}; decided at run time "
                    + "(set upgrade.from_version to check it here)"
            );
        }

        if (!inspect && (stateOptions.UrlEnv is not null || plan.State.Kind == StateSpec.Postgres))
        {
            return (null, $"needs a succeeded run of {from} -> {to} on {staging}; not checked (--offline)");
        }

        var redactor = RunCommand.SecretsFromEnvironment(plan);
        await using var store = await StateStores.OpenAsync(io, plan, stateOptions, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return (null, $"needs a succeeded run of {from} -> {to} on {staging}; the state store cannot be read");
        }

        RunSummary? found;
        try
        {
            found = await RunHistory
                .StagingRunAsync(store, staging, from, to, plan.Cluster.StagingMaxAge, DateTimeOffset.UtcNow)
                .ConfigureAwait(false);
        }
        catch (Journaling.JournalUnavailableException e)
        {
            return (null, $"needs a succeeded run of {from} -> {to} on {staging}; {redactor.Redact(e.Message)}");
        }

        return found is null
            ? (
                false,
                $"NOT MET: no succeeded run of {from} -> {to} on {staging} in {store.Describe(staging)}"
                    + (plan.Cluster.StagingMaxAge is { } age ? $" within {DurationText.Format(age)}" : string.Empty)
                    + "; `run` refuses (or --override-staging --reason TEXT)"
            )
            : (
                true,
                $"met by run {found.RunId} on {staging} ({found.FromVersion} -> {found.ToVersion}, "
                    + $"{RunHistory.Age(DateTimeOffset.UtcNow - found.FinishedAt!.Value)})"
            );
    }
}
