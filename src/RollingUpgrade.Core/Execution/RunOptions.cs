using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Journaling;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

public sealed record RunOptions
{
    /// <summary>The state folder of the file backend (used when <see cref="Store"/> is not given).</summary>
    public string StateRoot { get; init; } = ".rollingupgrade";

    /// <summary>Where runs live; a file store at <see cref="StateRoot"/> when not given.</summary>
    public IRunStore? Store { get; init; }

    internal IRunStore RunStore => Store ?? new FileRunStore(StateRoot);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public IRunObserver Observer { get; init; } = new RecordingObserver();

    /// <summary>A first signal: stop at the next safe point (waiting steps end at once).</summary>
    public CancellationToken StopRequested { get; init; }

    /// <summary>A second signal: the running command is terminated and confirmed gone.</summary>
    public CancellationToken Hurry { get; init; }

    public bool TakeOverStaleLock { get; init; }

    /// <summary>
    /// While a step runs longer than this, a heartbeat event says what it waits for, the current counts and the time
    /// left; null: none.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Take nodes that are already out of rotation when a new run starts (left by a dead run or
    /// another tool) as they are, instead of refusing to start.
    /// </summary>
    public bool AdoptDrained { get; init; }

    public InFlightChoice InFlight { get; init; } = InFlightChoice.Verify;

    /// <summary>Fault injection for tests of the journal and resume.</summary>
    internal IRunFaults? Faults { get; init; }

    public SecretRedactor Redactor { get; init; } = new();

    /// <summary>Who runs it, recorded with the run: user@host.</summary>
    public string Operator { get; init; } = Audit.DefaultOperator;

    /// <summary>Why, as the operator said it (--reason); recorded with the run.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// Proceed although the staging-first gate finds no succeeded staging run (--override-staging); the override
    /// and its reason are recorded.
    /// </summary>
    public bool OverrideStaging { get; init; }

    /// <summary>Diagnostic logging (retries, timeouts, every step's start and end); nothing by default.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory Logging { get; init; } =
        Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
}
