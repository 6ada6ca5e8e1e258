using RollingUpgrade.Cli.Adapters;
using RollingUpgrade.Cli.Rendering;
using RollingUpgrade.Events;
using RollingUpgrade.Execution;
using RollingUpgrade.Journaling;
using Spectre.Console;

namespace RollingUpgrade.Cli.Commands;

/// <summary><c>run</c> and <c>resume</c>: validate, check the adapters exist, take the lock, run, report.</summary>
internal sealed class RunCommand(CliIO io, RunCommandOptions options)
{
    /// <summary>With --output json: the writer of every JSON line, the header first.</summary>
    private JsonEventWriter? _json;

    public async Task<int> RunAsync(bool resume)
    {
        if (options.OverrideStaging && string.IsNullOrWhiteSpace(options.Reason))
        {
            await io
                .Error.WriteLineAsync(
                    "rollingupgrade: --override-staging needs --reason TEXT (recorded with the run); nothing was "
                        + "touched"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        if (options.Reason is { } reason && (reason.Length > 500 || reason.Any(char.IsControl)))
        {
            await io
                .Error.WriteLineAsync(
                    "rollingupgrade: --reason must be one line of at most 500 characters; nothing was touched"
                )
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var plan = await PlanFile.LoadAsync(io, options.PlanPath, options.Json).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var adapters = io.Adapters;
        var missing = CliAdapterFactory.Unavailable(plan, adapters);
        if (missing.Count == 0 && await PlanFile.InspectAsync(io, plan, options.Json).ConfigureAwait(false) is null)
        {
            return ExitCodes.BadInput;
        }

        if (missing.Count > 0)
        {
            foreach (var line in missing)
            {
                await io.Error.WriteLineAsync($"{options.PlanPath}: {line}").ConfigureAwait(false);
            }

            await io.Error.WriteLineAsync("nothing was touched").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var redactor = SecretsFromEnvironment(plan, io.Logging.Redactor);
        await using var store = await StateStores.OpenAsync(io, plan, options.State, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return ExitCodes.BadInput;
        }

        var live =
            !options.Json && !options.Quiet && io.Terminal ? new LiveView(LiveConsole(io), redactor, plan) : null;
        _json = options.Json ? new JsonEventWriter(io.Output, redactor, plan.Fingerprint) : null;
        IRunObserver shown =
            live is not null ? live
            : _json is not null ? _json
            : new ConsoleProgress(io.Output, redactor, options.Quiet);
        Metrics.MetricsEndpoint? metrics = null;
        if (options.MetricsListen is { } listen)
        {
            (metrics, var problem) = Metrics.MetricsEndpoint.Start(listen, plan);
            if (metrics is null)
            {
                await io.Error.WriteLineAsync($"rollingupgrade: {problem}; nothing was touched").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }
        }

        using var serving = metrics;
        var (observer, notifier) = WithNotifier(
            plan,
            metrics is null ? shown : new FanOutObserver(shown, metrics.Metrics)
        );
        await using var notifying = notifier;
        using var signals = new SafeStop(io.Error);
        try
        {
            var runOptions = new RunOptions
            {
                Store = store,
                Observer = observer,
                StopRequested = signals.Stop,
                Hurry = signals.Hurry,
                TakeOverStaleLock = options.TakeOverStaleLock,
                AdoptDrained = options.AdoptDrained,
                InFlight = options.InFlight,
                Reason = options.Reason,
                OverrideStaging = options.OverrideStaging,
                Redactor = redactor,
                Logging = io.Logging.Factory,
            };
            Task<RunOutcome> Run() =>
                resume
                    ? Orchestrator.ResumeAsync(plan, adapters, runOptions)
                    : Orchestrator.RunAsync(plan, adapters, runOptions);
            var outcome = live is null
                ? await Run().ConfigureAwait(false)
                : await live.RunAsync(Run).ConfigureAwait(false);
            if (notifier is not null)
            {
                // The outcome's notification goes out (or is given up on) before the outcome is printed.
                await notifier.DisposeAsync().ConfigureAwait(false);
            }

            await ReportAsync(outcome, redactor).ConfigureAwait(false);
            await WriteReportAsync(store, plan, outcome, redactor).ConfigureAwait(false);
            return outcome.ExitCode;
        }
        finally
        {
            await io.Error.FlushAsync().ConfigureAwait(false);
            signals.Finished();
        }
    }

    public async Task<int> RollbackAsync()
    {
        var plan = await PlanFile.LoadAsync(io, options.PlanPath, options.Json).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var redactor = SecretsFromEnvironment(plan);
        await using var store = await StateStores.OpenAsync(io, plan, options.State, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return ExitCodes.BadInput;
        }

        var (observer, notifier) = WithNotifier(
            plan,
            (IRunObserver?)(_json = options.Json ? new JsonEventWriter(io.Output, redactor, plan.Fingerprint) : null)
                ?? new ConsoleProgress(io.Output, redactor, options.Quiet)
        );
        await using var notifying = notifier;
        var outcome = await Orchestrator
            .RollbackAsync(
                plan,
                io.Adapters,
                new RunOptions
                {
                    Store = store,
                    Observer = observer,
                    TakeOverStaleLock = options.TakeOverStaleLock,
                    Redactor = redactor,
                }
            )
            .ConfigureAwait(false);
        if (notifier is not null)
        {
            await notifier.DisposeAsync().ConfigureAwait(false);
        }

        await ReportAsync(outcome, redactor).ConfigureAwait(false);
        await WriteReportAsync(store, plan, outcome, redactor).ConfigureAwait(false);
        return outcome.ExitCode;
    }

    public Task<int> PauseAsync() => RequestAsync(Orchestrator.PauseAsync);

    public Task<int> PromoteAsync() => RequestAsync(Orchestrator.PromoteAsync);

    /// <summary>A request to the live run through the state store (promote, pause).</summary>
    private async Task<int> RequestAsync(Func<Plans.Model.Plan, RunOptions, Task<RunOutcome>> request)
    {
        var plan = await PlanFile.LoadAsync(io, options.PlanPath, options.Json).ConfigureAwait(false);
        if (plan is null)
        {
            return ExitCodes.BadInput;
        }

        var redactor = new SecretRedactor();
        await using var store = await StateStores.OpenAsync(io, plan, options.State, redactor).ConfigureAwait(false);
        if (store is null)
        {
            return ExitCodes.BadInput;
        }

        _json = options.Json ? new JsonEventWriter(io.Output, redactor, plan.Fingerprint) : null;
        var outcome = await request(plan, new RunOptions { Store = store }).ConfigureAwait(false);
        await ReportAsync(outcome, redactor).ConfigureAwait(false);
        return outcome.ExitCode;
    }

    /// <summary>
    /// The run's observer, and the plan's webhooks beside it when it has <c>[[notify]]</c> entries: their warnings
    /// (a receiver down, a variable not set) are shown like the run's own.
    /// </summary>
    private static (IRunObserver Observer, Notifications.Notifier? Notifier) WithNotifier(
        Plans.Model.Plan plan,
        IRunObserver shown
    )
    {
        if (plan.Notify.Count == 0)
        {
            return (shown, null);
        }

        var said = new FanOutObserver(shown);
        var notifier = new Notifications.Notifier(
            plan,
            warning => said.OnEvent(new RunEvent(TimeProvider.System.GetUtcNow(), RunEventTypes.Warning, warning))
        );
        return (new FanOutObserver(said, notifier), notifier);
    }

    /// <summary>The outcome's name as printed: ROLLED BACK, NOTHING TO DO.</summary>
    private static string Label(RunStatus status) =>
        System.Text.RegularExpressions.Regex.Replace(status.ToString(), "(?<=[a-z])(?=[A-Z])", " ").ToUpperInvariant();

    private async Task ReportAsync(RunOutcome outcome, SecretRedactor redactor)
    {
        if (_json is not null)
        {
            _json.Write(
                "outcome",
                outcome.RunId,
                new Dictionary<string, object?>
                {
                    ["status"] = outcome.Status.ToString(),
                    ["exit_code"] = outcome.ExitCode,
                    ["failed_step"] = outcome.FailedStep,
                    ["summary"] = redactor.Redact(outcome.Summary),
                    ["next"] = redactor.Redact(outcome.NextSteps),
                }
            );
            return;
        }

        var writer = outcome.ExitCode == 0 ? io.Output : io.Error;
        await writer.WriteLineAsync().ConfigureAwait(false);
        await writer
            .WriteLineAsync($"{Label(outcome.Status)}: {redactor.Redact(outcome.Summary)}")
            .ConfigureAwait(false);
        await writer.WriteLineAsync($"next: {redactor.Redact(outcome.NextSteps)}").ConfigureAwait(false);
    }

    /// <summary>
    /// The run's HTML report, written when it ends (succeeded, halted, rolled back or stopped); its path is printed.
    /// A report that cannot be written is a warning: it never changes the outcome or the exit code.
    /// </summary>
    private async Task WriteReportAsync(
        IRunStore store,
        Plans.Model.Plan plan,
        RunOutcome outcome,
        SecretRedactor redactor
    )
    {
        if (outcome.RunId is not { } runId)
        {
            return;
        }

        var path = ReportFiles.PathFor(plan, options.State, runId);
        try
        {
            if (
                await Reporting
                    .ReportFile.WriteAsync(store, plan.Cluster.Name, runId, path, redactor)
                    .ConfigureAwait(false)
                is null
            )
            {
                return;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JournalUnavailableException)
        {
            await io
                .Error.WriteLineAsync($"warning: the run's report could not be written: {redactor.Redact(e.Message)}")
                .ConfigureAwait(false);
            return;
        }

        if (_json is not null)
        {
            _json.Write("report", runId, new Dictionary<string, object?> { ["path"] = Path.GetFullPath(path) });
        }
        else if (!options.Quiet)
        {
            await io.Output.WriteLineAsync($"report: {Path.GetFullPath(path)}").ConfigureAwait(false);
        }
    }

    /// <summary>The terminal, redrawn in place; no colour when NO_COLOR is set (https://no-color.org).</summary>
    internal static IAnsiConsole LiveConsole(CliIO io) =>
        AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(io.Output),
                Ansi = AnsiSupport.Yes,
                Interactive = InteractionSupport.Yes,
                ColorSystem = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
                    ? ColorSystemSupport.Detect
                    : ColorSystemSupport.NoColors,
            }
        );

    /// <summary>Values of the environment variables the plan names for secrets are redacted everywhere.</summary>
    internal static SecretRedactor SecretsFromEnvironment(Plans.Model.Plan plan, SecretRedactor? into = null)
    {
        var redactor = into ?? new SecretRedactor();
        var names = new[] { plan.Access.KeyPassphraseEnv, plan.Access.PasswordEnv, plan.Product.ApiPasswordEnv }
            .Concat(plan.Gates.SelectMany(g => new[] { g.PasswordEnv, g.TokenEnv }))
            .Concat(plan.LoadBalancers.Select(l => l.Settings is Plans.Model.YarpSettings y ? y.TokenEnv : null))
            .Concat(plan.Notify.SelectMany(n => new[] { n.UrlEnv, n.SecretEnv }))
            .Concat(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
        foreach (var name in names.OfType<string>())
        {
            redactor.Add(Environment.GetEnvironmentVariable(name));
        }

        return redactor;
    }
}
