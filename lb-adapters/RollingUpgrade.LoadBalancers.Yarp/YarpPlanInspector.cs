using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.Yarp;

/// <summary>
/// Before anything runs: the proxy's admin API answers, its cluster exists, and every node of the old cluster is
/// one of its destinations (the new cluster's are added when a parallel run registers them). A proxy that cannot be
/// reached is marked unreachable: a warning for `plan` and `run`, an error for `validate` unless offline.
/// </summary>
public static class YarpPlanInspector
{
    public static async Task<IReadOnlyList<PlanDiagnostic>> InspectAsync(
        Plan plan,
        LoadBalancerSpec spec,
        int index,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(spec);
        var where = $"load_balancers[{index + 1}]";
        var settings = (YarpSettings)spec.Settings;
        using var proxy = new YarpLoadBalancer(spec);
        try
        {
            _ = await proxy.ReadAsync([], cancellationToken).ConfigureAwait(false);
        }
        catch (TransientException e)
        {
            return
            [
                new PlanDiagnostic(
                    plan.LocationOf($"{where}.admin_url"),
                    $"{spec.Name}: {e.Message}; its cluster and destinations were not checked"
                )
                {
                    IsWarning = true,
                    IsUnreachable = true,
                },
            ];
        }
        catch (UnexpectedAnswerException e)
        {
            return
            [
                new PlanDiagnostic(
                    plan.LocationOf($"{where}.cluster"),
                    $"{spec.Name}: cluster '{settings.Cluster}' could not be read ({e.Message}); name a cluster of "
                        + "the proxy's config"
                ),
            ];
        }

        var result = new List<PlanDiagnostic>();
        foreach (var node in plan.Nodes)
        {
            try
            {
                _ = await proxy.ReadAsync([node], cancellationToken).ConfigureAwait(false);
            }
            catch (UnexpectedAnswerException e)
            {
                result.Add(
                    new PlanDiagnostic(
                        plan.LocationOf($"{where}.cluster"),
                        $"{e.Message}; add it to the proxy's config, or set the node's lb_ids"
                    )
                );
            }
            catch (TransientException e)
            {
                result.Add(
                    new PlanDiagnostic(plan.LocationOf($"{where}.admin_url"), $"{spec.Name}: {e.Message}")
                    {
                        IsWarning = true,
                        IsUnreachable = true,
                    }
                );
                break;
            }
        }

        return result;
    }
}
