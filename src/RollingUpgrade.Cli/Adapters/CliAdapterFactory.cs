using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Cli.Adapters;

/// <summary>The real adapters, chosen by the kinds a plan names.</summary>
/// <param name="passphrasePrompt">Asks for an SSH key's passphrase on a terminal; null never asks.</param>
/// <param name="logging">The command's diagnostic log, configured once its options are parsed.</param>
internal sealed class CliAdapterFactory(
    Func<string, string?>? passphrasePrompt = null,
    Logging.CliLogging? logging = null
) : IAdapterFactory, IPlanInspector
{
    private Microsoft.Extensions.Logging.ILoggerFactory Logs =>
        logging?.Factory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    private static readonly HttpClient AwsHttp = new(
        new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        }
    )
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>What this machine cannot drive with this plan, so a run stops before touching anything.</summary>
    public static IReadOnlyList<string> Unavailable(Plan plan, IAdapterFactory adapters)
    {
        if (adapters is not CliAdapterFactory)
        {
            return [];
        }

        return plan
            .LoadBalancers.Where(lb =>
                lb.Settings is AwsElbV2Settings aws
                && LoadBalancers.AwsElb.AwsCredentialChain.Region(aws.Region) is null
            )
            .Select(NoRegion)
            .ToList();
    }

    public ILoadBalancer CreateLoadBalancer(LoadBalancerSpec spec, Plan plan) =>
        spec.Kind switch
        {
            LoadBalancerKinds.HAProxy => new HAProxyLoadBalancer(
                spec,
                log: Logs.CreateLogger("RollingUpgrade.HAProxy")
            ),
            LoadBalancerKinds.Yarp => new LoadBalancers.Yarp.YarpLoadBalancer(
                spec,
                log: Logs.CreateLogger("RollingUpgrade.Yarp")
            ),
            LoadBalancerKinds.AwsElbV2 => CreateElbV2(spec, plan),
            _ => throw new NotSupportedException($"load balancer kind \"{spec.Kind}\" is not available in this build"),
        };

    /// <summary>
    /// An ELBv2 adapter on the default AWS credential chain; region and endpoint from the plan or the standard
    /// variables.
    /// </summary>
    private static LoadBalancers.AwsElb.ElbV2LoadBalancer CreateElbV2(LoadBalancerSpec spec, Plan plan)
    {
        var settings = (AwsElbV2Settings)spec.Settings;
        var region =
            LoadBalancers.AwsElb.AwsCredentialChain.Region(settings.Region)
            ?? throw new InvalidOperationException(NoRegion(spec));
        var client = new LoadBalancers.AwsElb.ElbV2Client(
            LoadBalancers.AwsElb.AwsCredentialChain.Endpoint(settings.Endpoint, region),
            region,
            LoadBalancers.AwsElb.AwsCredentialChain.ResolveAsync,
            AwsHttp
        );
        return new LoadBalancers.AwsElb.ElbV2LoadBalancer(spec, plan, client);
    }

    private static string NoRegion(LoadBalancerSpec spec) =>
        $"load balancer '{spec.Name}': no AWS region; set region in the plan, or AWS_REGION";

    public async Task<IReadOnlyList<Plans.PlanDiagnostic>> InspectAsync(Plan plan, CancellationToken cancellationToken)
    {
        var result = new List<Plans.PlanDiagnostic>();
        for (var i = 0; i < plan.LoadBalancers.Count; i++)
        {
            var spec = plan.LoadBalancers[i];
            if (spec.Kind == LoadBalancerKinds.Yarp)
            {
                result.AddRange(
                    await LoadBalancers
                        .Yarp.YarpPlanInspector.InspectAsync(plan, spec, i, cancellationToken)
                        .ConfigureAwait(false)
                );
            }
            else if (spec.Kind == LoadBalancerKinds.HAProxy)
            {
                result.AddRange(
                    await HAProxyPlanInspector.InspectAsync(plan, spec, i, cancellationToken).ConfigureAwait(false)
                );
            }
            else if (
                spec.Kind == LoadBalancerKinds.AwsElbV2
                && LoadBalancers.AwsElb.AwsCredentialChain.Region(((AwsElbV2Settings)spec.Settings).Region) is not null
            )
            {
                result.AddRange(
                    await LoadBalancers
                        .AwsElb.ElbV2PlanInspector.InspectAsync(
                            plan,
                            spec,
                            i,
                            () => CreateElbV2(spec, plan),
                            cancellationToken
                        )
                        .ConfigureAwait(false)
                );
            }
        }

        return result;
    }

    public IProduct CreateProduct(Plan plan, IShellFactory shells, ICommandValues values) =>
        ProductFactory.Create(plan, shells, values);

    public IShellFactory CreateShells(Plan plan) => new ShellFactory(plan, passphrasePrompt, Logs);

    public IGateProbe CreateGateProbe(Plan plan) => new Nodes.Gates.NetworkGateProbe();
}
