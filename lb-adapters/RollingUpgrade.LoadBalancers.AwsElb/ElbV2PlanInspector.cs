using System.Globalization;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Binding;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>
/// Before anything runs, when credentials are present: every target group exists, each node's
/// target is registered where it should be, the deregistration delay (shown, and a warning when
/// it is shorter than the drain timeout), and for cutover the listener or rule with its kind
/// (ALB: weighted ForwardConfig; NLB: target group swap). Without credentials nothing is read
/// and a warning says so.
/// </summary>
public static class ElbV2PlanInspector
{
    public static async Task<IReadOnlyList<PlanDiagnostic>> InspectAsync(
        Plan plan,
        LoadBalancerSpec spec,
        int index,
        Func<ElbV2LoadBalancer> adapter,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(adapter);
        var where = $"load_balancers[{index + 1}]";
        var settings = (AwsElbV2Settings)spec.Settings;
        var result = new List<PlanDiagnostic>();
        var lb = adapter();
        IReadOnlyDictionary<string, TargetGroupInfo> groups;
        try
        {
            groups = await lb.TargetGroupsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AwsCredentialsException e)
        {
            return
            [
                new PlanDiagnostic(
                    plan.LocationOf(where),
                    $"{spec.Name}: {e.Message}; target groups and listeners were not checked"
                )
                {
                    IsWarning = true,
                    IsUnreachable = true,
                },
            ];
        }
        catch (UnexpectedAnswerException e)
        {
            return [new PlanDiagnostic(plan.LocationOf($"{where}.target_groups"), e.Message)];
        }
        catch (Exception e) when (e is ElbV2Exception or HttpRequestException or TaskCanceledException)
        {
            return
            [
                new PlanDiagnostic(
                    plan.LocationOf(where),
                    $"{spec.Name}: could not read ELBv2 ({e.Message}); target groups and listeners were not checked"
                )
                {
                    IsWarning = true,
                    IsUnreachable = true,
                },
            ];
        }

        var client = lb.Client;
        foreach (var group in groups.Values.DistinctBy(g => g.Arn))
        {
            var attributes = await client
                .DescribeTargetGroupAttributesAsync(group.Arn, cancellationToken)
                .ConfigureAwait(false);
            var delay =
                attributes.TryGetValue("deregistration_delay.timeout_seconds", out var text)
                && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
                    ? TimeSpan.FromSeconds(seconds)
                    : TimeSpan.FromSeconds(300);
            result.Add(
                new PlanDiagnostic(
                    plan.LocationOf($"{where}.target_groups"),
                    $"{spec.Name}: target group {group.Name} ({group.Protocol}, {group.TargetType} targets): "
                        + $"deregistration delay {DurationText.Format(delay)}"
                )
                {
                    IsNote = true,
                }
            );
            if (delay < plan.Strategy.Drain.Timeout)
            {
                result.Add(
                    new PlanDiagnostic(
                        plan.LocationOf($"{where}.target_groups"),
                        $"{spec.Name}: target group {group.Name} ends a deregistered target's connections after "
                            + $"{DurationText.Format(delay)}, before strategy.drain.timeout ("
                            + $"{DurationText.Format(plan.Strategy.Drain.Timeout)}); the load balancer would cut "
                            + $"sessions that the drain policy means to wait for or evict at a pace: raise "
                            + $"deregistration_delay.timeout_seconds to at least "
                            + $"{(int)plan.Strategy.Drain.Timeout.TotalSeconds} or shorten the drain timeout"
                    )
                    {
                        IsWarning = true,
                    }
                );
            }
        }

        var registered = await lb.RegisteredAsync(plan.Nodes, cancellationToken).ConfigureAwait(false);
        foreach (var node in plan.Nodes)
        {
            if (!registered[node.Name])
            {
                result.Add(
                    new PlanDiagnostic(
                        plan.LocationOf($"{plan.PathOf(node)}.lb_ids.{spec.Name}"),
                        $"node '{node.Name}': target {lb.TargetOf(node)} is not registered in "
                            + $"{string.Join(", ", settings.TargetGroups)}; check its id and port, or register it "
                            + $"before the run"
                    )
                    {
                        IsWarning = true,
                    }
                );
            }
        }

        if (settings.ListenerArn is not null || settings.RuleArn is not null)
        {
            var key = settings.RuleArn is null ? "listener_arn" : "rule_arn";
            try
            {
                var routing = await lb.ReadRoutingAsync(cancellationToken).ConfigureAwait(false);
                var message = ElbV2LoadBalancer.IsNlb(routing)
                    ? $"{spec.Name}: {routing.Arn} is a Network Load Balancer listener ({routing.Protocol}), which "
                        + $"forwards to one target group: cutover swaps it from the blue to the green target group at "
                        + $"the first step of 50% or more; steps below that keep all traffic on blue"
                    : $"{spec.Name}: {(settings.RuleArn is null ? $"listener ({routing.Protocol})" : "rule")} "
                        + $"{routing.Arn}: cutover writes a weighted forward action over the blue and green target "
                        + $"groups at each step";
                result.Add(new PlanDiagnostic(plan.LocationOf($"{where}.{key}"), message) { IsNote = true });
            }
            catch (Exception e) when (e is ElbV2Exception or UnexpectedAnswerException)
            {
                result.Add(new PlanDiagnostic(plan.LocationOf($"{where}.{key}"), $"{spec.Name}: {e.Message}"));
            }
        }

        return result;
    }
}
