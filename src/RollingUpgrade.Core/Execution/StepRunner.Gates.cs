using System.Globalization;
using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    private static async Task RunGatesAsync(Step step, RunContext context, CancellationToken cancellationToken)
    {
        var isTrafficStep = step.GreenPercent is not null;
        var nodes = step.Nodes.Select(context.Node).ToList();
        if (isTrafficStep)
        {
            // Node health and membership of the new cluster are always part of a traffic step's gates.
            foreach (var node in nodes)
            {
                var status = await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false);
                if (!status.IsRunning)
                {
                    throw new StepFailedException($"gate: new node {node.Name} is {status.State} ({status.Detail})");
                }
            }

            await ExpectMembershipAsync(context, nodes[0], context.Green, nodeTouched: true, cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var gate in step.Gates.Select(name => context.Plan.Gates.First(g => g.Name == name)))
        {
            if (gate.Kind == GateKinds.Prometheus)
            {
                await CheckMetricAsync(step, context, gate, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (gate.Kind == GateKinds.LoadBalancerErrors)
            {
                await CheckLoadBalancerErrorsAsync(step, context, gate, cancellationToken).ConfigureAwait(false);
                continue;
            }

            foreach (var node in nodes)
            {
                var outcome = await CheckWithAttemptsAsync(step, context, gate, node, cancellationToken)
                    .ConfigureAwait(false);
                if (!outcome.Passed)
                {
                    throw new StepFailedException($"gate '{gate.Name}' failed on {node.Name}: {outcome.Detail}");
                }

                context.Emit(RunEventTypes.Progress, $"gate '{gate.Name}' passed on {node.Name}", step);
            }
        }
    }

    /// <summary>
    /// A prometheus gate: <c>measurements</c> readings of the query, <c>interval</c> apart; a reading fails when a
    /// series breaks the condition (or there is no data, unless <c>no_data = "pass"</c>), and the gate fails once more
    /// than <c>failure_limit</c> readings have failed. A query that cannot be made is retried (<c>attempts</c>) and
    /// then counts as a failed reading.
    /// </summary>
    private static async Task CheckMetricAsync(
        Step step,
        RunContext context,
        GateSpec gate,
        CancellationToken cancellationToken
    )
    {
        var failed = 0;
        for (var reading = 1; reading <= gate.Measurements; reading++)
        {
            var (passed, said) = await MeasureAsync(context, gate, cancellationToken).ConfigureAwait(false);
            var where = gate.Measurements == 1 ? string.Empty : $" (reading {reading} of {gate.Measurements})";
            if (passed)
            {
                context.Emit(RunEventTypes.Progress, $"gate '{gate.Name}'{where}: {said}", step);
            }
            else
            {
                failed++;
                if (failed > gate.FailureLimit)
                {
                    throw new StepFailedException(
                        $"gate '{gate.Name}' failed{where}: {said}"
                            + (
                                gate.FailureLimit > 0
                                    ? $"; {failed} readings failed, failure_limit {gate.FailureLimit}"
                                    : ""
                            )
                    );
                }

                context.Emit(
                    RunEventTypes.Warning,
                    $"gate '{gate.Name}'{where}: {said}; {failed} of at most {gate.FailureLimit} failed reading(s)",
                    step
                );
            }

            if (reading < gate.Measurements)
            {
                await Task.Delay(gate.Interval, context.Time, cancellationToken).ConfigureAwait(false);
            }
        }

        context.Emit(RunEventTypes.Progress, $"gate '{gate.Name}' passed", step);
    }

    private static async Task<(bool Passed, string Said)> MeasureAsync(
        RunContext context,
        GateSpec gate,
        CancellationToken cancellationToken
    )
    {
        string problem = "not measured";
        for (var attempt = 1; attempt <= gate.Attempts; attempt++)
        {
            using var timeout = context.Time.Timeout(gate.Timeout, cancellationToken);
            try
            {
                var values = await context.Probe.QueryAsync(gate, timeout.Token).ConfigureAwait(false);
                var numbers = values.Where(double.IsFinite).ToList();
                if (numbers.Count == 0)
                {
                    return (
                        gate.NoDataPasses,
                        "the query returned no data" + (gate.NoDataPasses ? " (no_data = \"pass\")" : "")
                    );
                }

                var breaking = numbers.Where(v => !gate.Condition!.Holds(v)).ToList();
                var shown = string.Join(", ", (breaking.Count > 0 ? breaking : numbers).Take(3).Select(Number));
                return breaking.Count == 0
                    ? (true, $"{shown} meets {gate.Condition}")
                    : (false, $"{shown} does not meet {gate.Condition} ({breaking.Count} of {numbers.Count} series)");
            }
            catch (OperationCanceledException) when (timeout.TimedOut)
            {
                problem = $"the query had no answer within {DurationText.Format(gate.Timeout)}";
            }
            catch (Exception e) when (e is TransientException or UnexpectedAnswerException)
            {
                problem = e.Message;
            }

            if (attempt < gate.Attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), context.Time, cancellationToken).ConfigureAwait(false);
            }
        }

        return (false, problem);
    }

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static async Task<GateOutcome> CheckWithAttemptsAsync(
        Step step,
        RunContext context,
        GateSpec gate,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        GateOutcome outcome = new(false, "not checked");
        for (var attempt = 1; attempt <= gate.Attempts; attempt++)
        {
            using var timeout = context.Time.Timeout(gate.Timeout, cancellationToken);
            try
            {
                outcome = await CheckOnceAsync(step, context, gate, node, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.TimedOut)
            {
                Diagnostics.EngineLog.TimedOut(
                    context.Log,
                    $"gate '{gate.Name}'",
                    node.Name,
                    DurationText.Format(gate.Timeout)
                );
                outcome = new GateOutcome(false, $"no answer within {DurationText.Format(gate.Timeout)}");
            }
            catch (Exception e) when (e is TransientException or UnexpectedAnswerException or IOException)
            {
                outcome = new GateOutcome(false, e.Message);
            }

            if (outcome.Passed)
            {
                return outcome;
            }

            if (attempt < gate.Attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), context.Time, cancellationToken).ConfigureAwait(false);
            }
        }

        return outcome;
    }

    private static async Task<GateOutcome> CheckOnceAsync(
        Step step,
        RunContext context,
        GateSpec gate,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        switch (gate.Kind)
        {
            case GateKinds.Status:
                var status = await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false);
                return new GateOutcome(status.IsRunning, status.Detail);
            case GateKinds.Version:
                var reported =
                    (await context.Product.StatusAsync(node, cancellationToken).ConfigureAwait(false)).Version
                    ?? string.Empty;
                var expectedVersion = step.ExpectedVersion ?? step.Version;
                return new GateOutcome(
                    Versions.Matches(reported, expectedVersion),
                    $"reports '{reported}', expected {expectedVersion}"
                );
            case GateKinds.Membership:
                var expected = context.Green.Any(g => g.Name == node.Name) ? context.Green : context.Blue;
                var problem = MembershipCheck.Compare(
                    await context.Product.MembershipAsync(node, cancellationToken).ConfigureAwait(false),
                    expected.Select(n => n.ErlangNode).ToList()
                );
                return new GateOutcome(problem is null, problem ?? "exact");
            case GateKinds.Command:
                var argv = gate.Command!.Render(context.Values.For(node));
                await using (var shell = context.Shells.For(node))
                {
                    var result = await shell
                        .RunAsync(argv, context.CommandOptions(gate.Timeout), cancellationToken)
                        .ConfigureAwait(false);
                    return new GateOutcome(result.Succeeded, $"exit code {result.ExitCode}: {result.Summary()}");
                }

            case GateKinds.XmppLogin when gate.MaxLatency is { } bound:
                var started = context.Time.GetTimestamp();
                var login = await context.Probe.CheckAsync(gate, node, cancellationToken).ConfigureAwait(false);
                var took = context.Time.GetElapsedTime(started);
                return login.Passed && took > bound
                    ? new GateOutcome(
                        false,
                        $"the login took {DurationText.Format(took)}, over max_latency ({DurationText.Format(bound)})"
                    )
                    : login;
            default:
                return await context.Probe.CheckAsync(gate, node, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The load balancers' error counters (connection errors, 5xx) must not grow by more than the gate allows since the
    /// last reading.
    /// </summary>
    private static async Task CheckLoadBalancerErrorsAsync(
        Step step,
        RunContext context,
        GateSpec gate,
        CancellationToken cancellationToken
    )
    {
        var all = context.Blue.Concat(context.Green).ToList();
        foreach (var lb in context.LoadBalancers)
        {
            var states = await lb.ReadAsync(all, cancellationToken).ConfigureAwait(false);
            var errors = states.Sum(s => s.Errors);
            var key = $"lb_errors:{lb.Name}";
            var before = context.Facts.Get(key) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : errors;
            context.Fact(key, errors.ToString(CultureInfo.InvariantCulture));
            if (errors - before > gate.MaxNewErrors)
            {
                throw new StepFailedException(
                    $"gate '{gate.Name}': {lb.Name} counted {errors - before} new error(s) since the last step "
                        + $"(allowed {gate.MaxNewErrors})"
                );
            }
        }

        context.Emit(RunEventTypes.Progress, $"gate '{gate.Name}' passed: no new load balancer errors", step);
    }
}
