namespace RollingUpgrade.Tests;

/// <summary>
/// A cluster of "nodes" that are folders on this machine, driven by the generic product's shell
/// commands: a node runs while its <c>running</c> file exists, reports the version in <c>version</c>,
/// and an install writes <c>installed</c>, which the next start turns into the running version.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    public LocalCluster(int nodes = 3, string version = "1.0")
    {
        Root = Directory.CreateTempSubdirectory("ru-cli-").FullName;
        for (var i = 1; i <= nodes; i++)
        {
            var dir = NodeDir(i);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "version"), version);
            File.WriteAllText(Path.Combine(dir, "installed"), version);
            File.WriteAllText(Path.Combine(dir, "running"), string.Empty);
        }

        Nodes = nodes;
    }

    public string Root { get; }

    public int Nodes { get; }

    public string PlanPath => Path.Combine(Root, "plan.toml");

    public string NodeDir(int i) => Path.Combine(Root, $"n{i}");

    public string Version(int i) => File.ReadAllText(Path.Combine(NodeDir(i), "version")).Trim();

    public bool Running(int i) => File.Exists(Path.Combine(NodeDir(i), "running"));

    public string WritePlan(
        string install = "echo {version} > {var.dir}/installed",
        string extraUpgrade = "",
        string gates = "",
        string? loadBalancer = null
    )
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("[cluster]\nname = \"local\"\n");
        for (var i = 1; i <= Nodes; i++)
        {
            text.AppendLine(
                $"[[nodes]]\nname = \"n{i}\"\nhost = \"127.0.0.{10 + i}\"\nerlang_node = \"node{i}@127.0.0."
                    + $"{10 + i}\"\nvars = {{ dir = \"{NodeDir(i)}\" }}\n"
                    + $"{(loadBalancer is null ? string.Empty : $"lb_ids = {{ edge = \"n{i}\" }}\n")}"
            );
        }

        text.AppendLine("[access]\nkind = \"local\"\ncommand_timeout = \"20s\"\n");
        text.AppendLine("[product]\nkind = \"generic\"\nstart_timeout = \"20s\"\n");
        text.AppendLine("[product.commands]");
        text.AppendLine("status = \"test -f {var.dir}/running\"");
        text.AppendLine("version = { run = \"cat {var.dir}/version\", parse = \"regex\", pattern = '^(\\S+)' }");
        text.AppendLine("stop = \"rm -f {var.dir}/running\"");
        text.AppendLine("start = \"cp {var.dir}/installed {var.dir}/version && touch {var.dir}/running\"");
        text.AppendLine("sessions = \"echo 0\"\n");
        if (loadBalancer is not null)
        {
            text.AppendLine($"[[load_balancers]]\nname = \"edge\"\n{loadBalancer}\n");
        }

        text.AppendLine(
            $"[upgrade]\ntarget_version = \"2.0\"\nbackup_config = false\ninstall = {Toml(install)}\n{extraUpgrade}\n"
        );
        text.AppendLine(gates);
        text.AppendLine(
            "[strategy]\nkind = \"rolling\"\ncapacity_nodes = 2\n\n[strategy.drain]\ntimeout = \"5s\"\npoll_interval "
                + "= \"100ms\"\nzero_readings = 2\n"
        );
        File.WriteAllText(PlanPath, text.ToString());
        return PlanPath;
    }

    private static string Toml(string value) =>
        "\""
        + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
        + "\"";

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
