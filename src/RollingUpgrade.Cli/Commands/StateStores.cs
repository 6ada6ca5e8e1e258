using System.Data;
using Npgsql;
using RollingUpgrade.Journaling;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.State.Postgres;

namespace RollingUpgrade.Cli.Commands;

/// <summary>The state options of the command line; each overrides the plan's <c>[state]</c> table.</summary>
internal sealed record StateOptions(string? Dir = null, string? UrlEnv = null, string? Schema = null);

/// <summary>
/// Opens the state store a plan (and the command line) names: the state folder, or the shared PostgreSQL database
/// whose connection string is in an environment variable (redacted from everything the tool prints).
/// </summary>
internal static class StateStores
{
    /// <summary>
    /// The store, or null after saying on stderr what is wrong and how to fix it. The connection string of a shared
    /// store (and its password) joins <paramref name="redactor"/>'s secrets first.
    /// </summary>
    public static async Task<IRunStore?> OpenAsync(CliIO io, Plan plan, StateOptions options, SecretRedactor redactor)
    {
        AddSecrets(plan, options, redactor);
        var resolved = Resolve(plan, options);
        if (resolved.Problem is { } problem)
        {
            await io.Error.WriteLineAsync($"{plan.SourcePath}: {problem}; nothing was touched").ConfigureAwait(false);
            return null;
        }

        if (resolved.ConnectionString is not { } connection)
        {
            return new FileRunStore(options.Dir ?? StateDirectory.DefaultRoot(plan.SourcePath));
        }

        try
        {
            return await PostgresRunStore
                .OpenAsync(connection, resolved.Schema, plan.State.LeaseTtl)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            var where = redactor.Redact(Where(connection, resolved.Schema));
            await io
                .Error.WriteLineAsync(
                    $"{plan.SourcePath}: the state store {where} cannot be used: "
                        + $"{redactor.Redact(e.Message)}; nothing was touched. Check the database and the connection "
                        + $"string in ${resolved.UrlEnv}"
                )
                .ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// For `validate`: the state store is reachable and its schema is one this binary can use. Touches nothing
    /// (a schema that does not exist yet is created by the first run).
    /// </summary>
    public static async Task<(bool Ok, string? Text)> CheckAsync(
        Plan plan,
        StateOptions options,
        SecretRedactor redactor
    )
    {
        AddSecrets(plan, options, redactor);
        var resolved = Resolve(plan, options);
        if (resolved.Problem is { } problem)
        {
            return (false, problem);
        }

        if (resolved.ConnectionString is not { } connection)
        {
            return (true, null);
        }

        // A database or user name may be the password itself; whatever names the store is shown redacted.
        var where = redactor.Redact(Where(connection, resolved.Schema));
        try
        {
            var version = await PostgresStateStore.CheckAsync(connection, resolved.Schema).ConfigureAwait(false);
            return (
                true,
                version == 0
                    ? $"state: {where} reachable; the schema does not exist yet (the first run creates it)"
                    : $"state: {where} reachable, schema version {version} (this rollingupgrade: "
                        + $"{PostgresStateStore.SchemaVersion})"
            );
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            return (false, $"the state store {where} cannot be used: {redactor.Redact(e.Message)}");
        }
    }

    /// <summary>Adds the connection string (and its password) of a shared store to the secrets never shown.</summary>
    private static void AddSecrets(Plan plan, StateOptions options, SecretRedactor redactor)
    {
        if (Resolve(plan, options).ConnectionString is not { } connection)
        {
            return;
        }

        redactor.Add(connection);
        try
        {
            redactor.Add(new NpgsqlConnectionStringBuilder(connection).Password);
        }
        catch (ArgumentException)
        {
            // A malformed connection string is reported when it is used; it is redacted whole meanwhile.
        }
    }

    private sealed record Resolved(string? ConnectionString, string? UrlEnv, string Schema, string? Problem);

    private static Resolved Resolve(Plan plan, StateOptions options)
    {
        var urlEnv = options.UrlEnv ?? plan.State.UrlEnv;
        var kind = options.UrlEnv is not null ? StateSpec.Postgres : plan.State.Kind;
        var schema = options.Schema ?? plan.State.Schema;
        if (options.Schema is { } s && Plans.Validation.ValueRules.SchemaName(s) is { } bad)
        {
            return new Resolved(null, urlEnv, schema, $"--state-schema '{s}' {bad}");
        }

        if (options.UrlEnv is { } e && Plans.Validation.ValueRules.EnvName(e) is { } notName)
        {
            return new Resolved(
                null,
                urlEnv,
                schema,
                $"--state-url-env {notName} (the value is not shown: it may be the connection string itself; put that "
                    + "in an environment variable and name the variable here)"
            );
        }

        if (kind == StateSpec.File)
        {
            return options.Schema is null
                ? new Resolved(null, null, schema, null)
                : new Resolved(
                    null,
                    null,
                    schema,
                    "--state-schema applies to a PostgreSQL state store; add "
                        + "--state-url-env NAME or set state.kind = \"postgres\""
                );
        }

        if (options.Dir is not null)
        {
            return new Resolved(
                null,
                urlEnv,
                schema,
                "--state-dir is for the file state store, but this run keeps its state in PostgreSQL (state.kind or "
                    + "--state-url-env); drop one of them"
            );
        }

        if (urlEnv is null)
        {
            return new Resolved(
                null,
                null,
                schema,
                "state.kind = \"postgres\" needs state.url_env (or --state-url-env NAME): the environment variable "
                    + "that holds the connection string"
            );
        }

        var value = Environment.GetEnvironmentVariable(urlEnv);
        if (string.IsNullOrWhiteSpace(value))
        {
            return new Resolved(
                null,
                urlEnv,
                schema,
                $"the environment variable {urlEnv} (the state store's connection string) is not set; set it to a "
                    + "connection string such as 'Host=db.example;Database=ops;Username=upgrades;Password=...'"
            );
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            return new Resolved(
                null,
                urlEnv,
                schema,
                $"the environment variable {urlEnv} does not hold a PostgreSQL connection string (such as "
                    + "'Host=db.example;Database=ops;Username=upgrades;Password=...'); its value is not shown"
            );
        }

        return new Resolved(value, urlEnv, schema, null);
    }

    private static string Where(string connection, string schema) => PostgresRunStore.Where(connection, schema);

    internal static bool IsStoreFailure(Exception e) =>
        e
            is NpgsqlException
                or StateSchemaException
                or TimeoutException
                or DataException
                or System.Net.Sockets.SocketException
                or JournalUnavailableException;
}
