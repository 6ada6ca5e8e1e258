using System.CommandLine;
using RollingUpgrade.Execution;

namespace RollingUpgrade.Cli.Commands;

/// <summary>The subcommands and their options.</summary>
internal static class PlanCommands
{
    public static IEnumerable<Command> Create(CliIO io)
    {
        yield return Make(
            "validate",
            "Check a plan and report every problem as file:line:col; reads the load balancers it names when they can "
                + "be reached; touches nothing.",
            (r, o) =>
                new ValidateCommand(
                    io,
                    r.GetValue(o.Plan)!,
                    r.GetValue(o.Output)!,
                    !r.GetValue(o.Offline),
                    State(r, o)
                ).RunAsync()
        );
        yield return Make(
            "plan",
            "Dry run: the numbered steps, serving capacity at each, migration guides, the rollback path; touches "
                + "nothing.",
            (r, o) =>
                new PlanPreviewCommand(
                    io,
                    r.GetValue(o.Plan)!,
                    r.GetValue(o.Output)!,
                    !r.GetValue(o.Offline),
                    State(r, o)
                ).RunAsync()
        );
        yield return Make(
            "run",
            "Run the upgrade.",
            (r, o) => new RunCommand(io, Options(r, o)).RunAsync(resume: false),
            run: true
        );
        yield return Make(
            "resume",
            "Continue an interrupted or halted run, re-verifying the step that was in flight.",
            (r, o) => new RunCommand(io, Options(r, o)).RunAsync(resume: true),
            run: true,
            resume: true
        );
        yield return Make(
            "rollback",
            "Go back now: parallel, all traffic to the old cluster; rolling, every upgraded node to the previous "
                + "version one by one through the drain (a live run does it at its next safe point).",
            (r, o) => new RunCommand(io, Options(r, o)).RollbackAsync(),
            run: true
        );
        yield return Make(
            "promote",
            "Let a run that waits for promote go on (a parallel traffic step, a rolling canary).",
            (r, o) => new RunCommand(io, Options(r, o)).PromoteAsync()
        );
        yield return Make(
            "pause",
            "Ask the live run to hold at its next safe point with every node serving, until `resume`.",
            (r, o) => new RunCommand(io, Options(r, o)).PauseAsync()
        );
        yield return Demo(io);
        yield return DemoNode();
        yield return Proxy(io);
        yield return Make(
            "status",
            "The last run's journal and the live state of nodes and load balancers.",
            (r, o) => new StatusCommand(io, r.GetValue(o.Plan)!, r.GetValue(o.Output)!, State(r, o)).RunAsync()
        );
        yield return Make(
            "history",
            "Every run of the plan's cluster: who, from where, when, strategy, versions, outcome, duration.",
            (r, o) => new HistoryCommand(io, r.GetValue(o.Plan)!, r.GetValue(o.Output)!, State(r, o)).RunAsync()
        );
        yield return Report(io);
        yield return Completion(io);
        yield return Schema(io);
    }

    private static Command Schema(CliIO io)
    {
        var command = new Command(
            "schema",
            "Print the JSON Schema of plan files (docs/plan.schema.json), for TOML editors' completion and checks."
        );
        command.SetAction(
            async (_, _) =>
            {
                await io.Output.WriteAsync(Plans.Schema.PlanSchema.Generate()).ConfigureAwait(false);
                return Execution.ExitCodes.Done;
            }
        );
        return command;
    }

    private static Command Completion(CliIO io)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh, fish or pwsh" };
        shell.AcceptOnlyFromAmong(CompletionCommand.Shells);
        var command = new Command(
            "completion",
            "Print the shell completion script: `source <(rollingupgrade completion bash)` (zsh alike; fish: "
                + "`rollingupgrade completion fish | source`; PowerShell: `... pwsh | Out-String | Invoke-Expression`)."
        )
        {
            shell,
        };
        command.SetAction(
            async (r, _) =>
            {
                await io.Output.WriteAsync(CompletionCommand.Script(r.GetValue(shell)!)).ConfigureAwait(false);
                return Execution.ExitCodes.Done;
            }
        );
        return command;
    }

    private static Command Report(CliIO io)
    {
        var plan = PlanArgument();
        var run = new Option<string?>("--run") { Description = "the run id (default: the current or last run)" };
        var file = new Option<string?>("--file")
        {
            Description = "where to write it (default: runs/RUN.html in the cluster's state folder)",
        };
        var open = new Option<bool>("--open") { Description = "open the report in the desktop's browser" };
        var output = new Option<string>("--output")
        {
            Description = "text (default) or json: the report's path as one JSON object",
            DefaultValueFactory = _ => "text",
        };
        output.AcceptOnlyFromAmong("text", "json");
        var dir = new Option<string?>("--state-dir") { Description = "where journals live (default: .rollingupgrade)" };
        var urlEnv = new Option<string?>("--state-url-env")
        {
            Description = "the journal is in PostgreSQL: the environment variable holding the connection string",
        };
        var schema = new Option<string?>("--state-schema") { Description = "the PostgreSQL schema of the state" };
        var command = new Command(
            "report",
            "Write the HTML report of a run (steps over time, connections per node, weights, eviction pace, gates) "
                + "and print its path; every run writes one when it ends."
        )
        {
            plan,
            run,
            file,
            open,
            output,
            dir,
            urlEnv,
            schema,
        };
        command.SetAction(
            (r, _) =>
                new ReportCommand(
                    io,
                    r.GetValue(plan)!,
                    r.GetValue(run),
                    r.GetValue(file),
                    r.GetValue(open),
                    new StateOptions(r.GetValue(dir), r.GetValue(urlEnv), r.GetValue(schema)),
                    r.GetValue(output) == "json"
                ).RunAsync()
        );
        return command;
    }

    private static Command Demo(CliIO io)
    {
        var nodes = new Option<string>("--nodes")
        {
            Description = "demo (built-in demo nodes) or ejabberd (a local ejabberd 23.01 cluster, when installed)",
            DefaultValueFactory = _ => "demo",
        };
        var command = new Command(
            "demo",
            "Start the embedded proxy and three local demo nodes under client load, run a rolling upgrade and then a "
                + "parallel cutover, and print what happened."
        )
        {
            nodes,
        };
        command.SetAction((r, _) => new RollingUpgrade.Demo.DemoCommand(DemoHost(io)).RunAsync(r.GetValue(nodes)!));
        return command;
    }

    /// <summary>
    /// The demo runs on the real adapters, shows progress as `run` does, and starts its nodes through this program's
    /// own `demo-node`.
    /// </summary>
    private static RollingUpgrade.Demo.DemoHost DemoHost(CliIO io)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        IReadOnlyList<string> launcher =
            Path.GetFileNameWithoutExtension(host) == "dotnet"
                ? [host, Path.Combine(AppContext.BaseDirectory, "rollingupgrade.dll")]
                : [host];
        return new RollingUpgrade.Demo.DemoHost(
            io.Output,
            io.Error,
            io.Adapters,
            () => new Rendering.ConsoleProgress(io.Output, new Journaling.SecretRedactor()),
            launcher,
            io.Terminal
                ? (plan, run) =>
                {
                    var live = new Rendering.LiveView(
                        RunCommand.LiveConsole(io),
                        new Journaling.SecretRedactor(),
                        plan
                    );
                    return live.RunAsync(() => run(live));
                }
                : null
        );
    }

    private static Command DemoNode()
    {
        var dir = new Option<string>("--dir") { Required = true };
        var name = new Option<string>("--name") { Required = true };
        var host = new Option<string>("--host") { Required = true };
        var http = new Option<int>("--http-port") { Required = true };
        var tcp = new Option<int>("--tcp-port") { Required = true };
        var command = new Command("demo-node", "One node of the demo cluster (started by `demo`).")
        {
            dir,
            name,
            host,
            http,
            tcp,
        };
        command.Hidden = true;
        command.SetAction(
            (r, _) =>
                RollingUpgrade.Demo.DemoNodeCommand.RunAsync(
                    r.GetValue(dir)!,
                    r.GetValue(name)!,
                    r.GetValue(host)!,
                    r.GetValue(http),
                    r.GetValue(tcp)
                )
        );
        return command;
    }

    private static Command Proxy(CliIO io)
    {
        var config = new Option<string>("--config") { Description = "the proxy's TOML config", Required = true };
        var metrics = new Option<string?>("--metrics-listen")
        {
            Description =
                "also serve /metrics alone on ADDR:PORT, without the admin token (the admin listener serves it too)",
        };
        var command = new Command(
            "proxy",
            "Run the embedded load balancer (YARP + Kestrel) with its admin API until stopped."
        )
        {
            config,
            metrics,
        };
        command.SetAction((r, _) => new ProxyCommand(io, r.GetValue(config)!, r.GetValue(metrics)).RunAsync());
        return command;
    }

    private sealed record CommonOptions(
        Argument<string> Plan,
        Option<string> Output,
        Option<string?> StateDir,
        Option<string?> StateUrlEnv,
        Option<string?> StateSchema,
        Option<bool> TakeOver,
        Option<bool> Retry,
        Option<bool> Skip,
        Option<bool> Offline,
        Option<bool> AdoptDrained,
        Option<string?> Reason,
        Option<bool> OverrideStaging,
        Option<bool> Quiet,
        Option<string?> MetricsListen
    );

    private static Command Make(
        string name,
        string description,
        Func<ParseResult, CommonOptions, Task<int>> action,
        bool run = false,
        bool resume = false
    )
    {
        var options = new CommonOptions(
            PlanArgument(),
            new Option<string>("--output")
            {
                Description = "text (default) or json: one JSON event per line on stdout",
                DefaultValueFactory = _ => "text",
            },
            new Option<string?>("--state-dir")
            {
                Description = "where journals and the lock live (default: .rollingupgrade next to the plan)",
            },
            new Option<string?>("--state-url-env")
            {
                Description =
                    "keep the state in PostgreSQL: the environment variable holding the connection string "
                    + "(overrides [state] in the plan)",
            },
            new Option<string?>("--state-schema")
            {
                Description = "the PostgreSQL schema of the state tables (default: state.schema, or rollingupgrade)",
            },
            new Option<bool>("--take-over-stale-lock")
            {
                Description = "continue although a dead process left the cluster's lock",
            },
            new Option<bool>("--retry-in-flight") { Description = "run the step that was in flight again" },
            new Option<bool>("--skip-in-flight") { Description = "treat the step that was in flight as done" },
            new Option<bool>("--offline")
            {
                Description = "check the plan file only; do not read the load balancers it names",
            },
            new Option<bool>("--adopt-drained")
            {
                Description = "start although some nodes are already out of rotation (left by another run or tool)",
            },
            new Option<string?>("--reason") { Description = "why this run: recorded with it (see `history`)" },
            new Option<bool>("--override-staging")
            {
                Description =
                    "start although cluster.requires_staging finds no succeeded staging run (needs --reason; "
                    + "the override is recorded)",
            },
            new Option<bool>("--quiet", "-q")
            {
                Description = "print only warnings, failures and the outcome (no step lines, no heartbeats)",
            },
            new Option<string?>("--metrics-listen")
            {
                Description =
                    "serve the run's Prometheus metrics on ADDR:PORT/metrics while it runs (e.g. 127.0.0.1:9464)",
            }
        );
        options.Output.AcceptOnlyFromAmong("text", "json");
        var command = new Command(name, description) { options.Plan, options.Output };
        if (name is "validate" or "plan")
        {
            command.Add(options.Offline);
        }

        if (name is "run" or "resume" or "status" or "rollback" or "promote" or "pause" or "history" or "plan")
        {
            command.Add(options.StateDir);
        }

        if (
            name
            is "run"
                or "resume"
                or "status"
                or "rollback"
                or "promote"
                or "pause"
                or "history"
                or "plan"
                or "validate"
        )
        {
            command.Add(options.StateUrlEnv);
            command.Add(options.StateSchema);
        }

        if (name is "run" or "resume" or "rollback")
        {
            command.Add(options.Reason);
            command.Add(options.Quiet);
        }

        if (name is "run" or "resume")
        {
            command.Add(options.MetricsListen);
        }

        if (run)
        {
            command.Add(options.TakeOver);
        }

        if (name == "run")
        {
            command.Add(options.AdoptDrained);
            command.Add(options.OverrideStaging);
        }

        if (resume)
        {
            command.Add(options.Retry);
            command.Add(options.Skip);
        }

        command.SetAction((result, _) => action(result, options));
        return command;
    }

    /// <summary>
    /// The plan file. A word that looks like an option is refused here (with the closest option of the command):
    /// otherwise a mistyped option such as <c>--ofline</c> would be taken for the plan's path.
    /// </summary>
    private static Argument<string> PlanArgument()
    {
        var plan = new Argument<string>("PLAN") { Description = "the plan file (TOML)" };
        plan.Validators.Add(result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (value.Length > 1 && value[0] == '-' && !File.Exists(value))
            {
                var options = (result.Parent as System.CommandLine.Parsing.CommandResult)
                    ?.Command.Options.Where(o => !o.Hidden)
                    .Select(o => o.Name)
                    .ToList();
                result.AddError(
                    $"unknown option '{value}'"
                        + (
                            options is { Count: > 0 }
                                ? Plans.Binding.Suggestions.DidYouMean(value, options)
                                : string.Empty
                        )
                );
            }
        });
        return plan;
    }

    private static StateOptions State(ParseResult result, CommonOptions options) =>
        new(
            result.GetValue(options.StateDir),
            result.GetValue(options.StateUrlEnv),
            result.GetValue(options.StateSchema)
        );

    private static RunCommandOptions Options(ParseResult result, CommonOptions options) =>
        new(
            result.GetValue(options.Plan)!,
            result.GetValue(options.Output) == "json",
            State(result, options),
            result.GetValue(options.TakeOver),
            result.GetValue(options.Retry) ? InFlightChoice.Retry
                : result.GetValue(options.Skip) ? InFlightChoice.Skip
                : InFlightChoice.Verify,
            result.GetValue(options.AdoptDrained),
            result.GetValue(options.Reason),
            result.GetValue(options.OverrideStaging),
            result.GetValue(options.Quiet),
            result.GetValue(options.MetricsListen)
        );
}

internal sealed record RunCommandOptions(
    string PlanPath,
    bool Json,
    StateOptions State,
    bool TakeOverStaleLock,
    InFlightChoice InFlight,
    bool AdoptDrained = false,
    string? Reason = null,
    bool OverrideStaging = false,
    bool Quiet = false,
    string? MetricsListen = null
);
