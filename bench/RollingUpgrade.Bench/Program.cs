using RollingUpgrade.Bench;

return args.FirstOrDefault() switch
{
    "haproxy-drain" => await HAProxyDrainBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/RollingUpgrade.Bench -- haproxy-drain [trials]");
    return 2;
}
