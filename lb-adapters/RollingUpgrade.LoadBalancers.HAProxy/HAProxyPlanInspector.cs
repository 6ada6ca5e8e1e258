using RollingUpgrade.LoadBalancers.HAProxy.Runtime;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.LoadBalancers.HAProxy;

/// <summary>
/// Before anything runs: every configured backend exists on every instance, and every node's
/// server is in every one of them. An instance that cannot be reached is a warning, not an error.
/// </summary>
public static class HAProxyPlanInspector
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
        var settings = (HAProxySettings)spec.Settings;
        var where = $"load_balancers[{index + 1}]";
        var result = new List<PlanDiagnostic>();
        foreach (var socket in settings.Sockets)
        {
            var client = new HAProxyRuntimeClient(new HAProxyEndpoint(socket), TimeSpan.FromSeconds(2));
            StatTable stat;
            try
            {
                stat = StatTable.Parse(await client.ExecuteAsync("show stat", cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is TransientException or UnexpectedAnswerException)
            {
                result.Add(
                    new PlanDiagnostic(
                        plan.LocationOf($"{where}.sockets"),
                        $"{spec.Name}: {e.Message}; backends and servers were not checked"
                    )
                    {
                        IsWarning = true,
                        IsUnreachable = true,
                    }
                );
                continue;
            }

            foreach (var backend in settings.Backends.Where(b => !stat.HasBackend(b)))
            {
                var known = stat.Rows.Where(r => r.Name == "BACKEND").Select(r => r.Proxy).ToList();
                result.Add(
                    new PlanDiagnostic(
                        plan.LocationOf($"{where}.backends"),
                        $"{spec.Name}: HAProxy at {socket} has no backend '{backend}'"
                            + $"{Plans.Binding.Suggestions.DidYouMean(backend, known)}"
                    )
                );
            }

            foreach (var node in plan.Nodes.Concat(plan.GreenNodes))
            {
                foreach (var backend in settings.Backends.Where(stat.HasBackend))
                {
                    var server = node.IdIn(spec.Name, backend);
                    if (stat.Server(backend, server) is not null)
                    {
                        continue;
                    }

                    // Suggest among the servers no other node claims: mim-3 for mim3, not mim1.
                    var claimed = plan
                        .Nodes.Concat(plan.GreenNodes)
                        .Select(n => n.IdIn(spec.Name, backend))
                        .ToHashSet(StringComparer.Ordinal);
                    var known = stat
                        .Rows.Where(r =>
                            r.Proxy == backend && r.Name is not ("BACKEND" or "FRONTEND") && !claimed.Contains(r.Name)
                        )
                        .Select(r => r.Name)
                        .ToList();
                    var key = node.BackendIds.ContainsKey(spec.Name)
                        ? $"{plan.PathOf(node)}.lb_ids.{spec.Name}.{backend}"
                        : $"{plan.PathOf(node)}.lb_ids.{spec.Name}";
                    result.Add(
                        new PlanDiagnostic(
                            plan.LocationOf(key),
                            $"node '{node.Name}': HAProxy at {socket} has no server '{server}' in backend '{backend}'"
                                + $"{(known.Count > 0 ? Plans.Binding.Suggestions.DidYouMean(server, known) : "")}; a "
                                + $"node must be in every "
                                + $"backend of the load balancer (where its name differs per backend, write lb_ids."
                                + $"{spec.Name} = {{ {backend} = \"<name>\", ... }})"
                        )
                    );
                }
            }
        }

        return result;
    }
}
