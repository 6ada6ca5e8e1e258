using RollingUpgrade.Bench;

return args.FirstOrDefault() switch
{
    "haproxy-drain" => await HAProxyDrainBench.RunAsync(args.Skip(1).ToArray()),
    "haproxy-evict" => await HAProxyEvictBench.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 9_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500
    ),
    "rolling-upgrade" => await RollingUpgradeBench.RunAsync(
        RepositoryRoot(),
        withAnsible: !args.Contains("--no-ansible"),
        json: Array.IndexOf(args, "--json") is var at and > 0 && at + 1 < args.Length ? args[at + 1] : null
    ),
    "proxy-throughput" => await ProxyThroughputBench.RunAsync(RepositoryRoot(), args.Skip(1).ToArray()),
    "node-call-cost" => await NodeCallCostBench.RunAsync(
        RepositoryRoot(),
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8
    ),
    "harness" => await HarnessCommand.RunAsync(RepositoryRoot()),
    "proxy-sessions" => await ProxySessionsBench.RunAsync(
        RepositoryRoot(),
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500
    ),
    "ssh-scale" => await SshScaleBench.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100,
        rounds: 5
    ),
    "scale" => await ScaleBench.RunAsync(
        RepositoryRoot(),
        Sizes(args.Skip(1).TakeWhile(a => a != "--json").ToList()),
        Array.IndexOf(args, "--json") is var json and > 0 && json + 1 < args.Length ? args[json + 1] : null
    ),
    "scale-proxied" => await ScaleBench.RunProxiedAsync(
        RepositoryRoot(),
        Sizes(args.Skip(1).TakeWhile(a => a != "--cli").ToList()),
        Array.IndexOf(args, "--cli") is var cli and > 0 && cli + 1 < args.Length ? args[cli + 1] : null
    ),
    "state-store" => await StateStoreBench.RunAsync(
        RepositoryRoot(),
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 500
    ),
    _ => Usage(),
};

static string RepositoryRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (!File.Exists(Path.Combine(dir!.FullName, "RollingUpgrade.sln")))
    {
        dir = dir.Parent;
    }

    return dir.FullName;
}

static List<int> Sizes(List<string> given) =>
    given.Count == 0
        ? [10, 100, 1000]
        : given.Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToList();

static int Usage()
{
    Console.Error.WriteLine(
        "usage: dotnet run -c Release --project bench/RollingUpgrade.Bench -- haproxy-drain [trials] | "
            + "haproxy-evict [sessions] [rate] | "
            + "rolling-upgrade [--no-ansible] [--json FILE] | "
            + "proxy-throughput [connections] [seconds] [rounds] [another build's rollingupgrade.dll] | "
            + "node-call-cost [rounds] | "
            + "harness | state-store [appends] | scale [nodes...] [--json FILE] | ssh-scale [hosts] | "
            + "scale-proxied [nodes...] [--cli another build's rollingupgrade.dll] | "
            + "proxy-sessions [sessions] [rate]"
    );
    return 2;
}
