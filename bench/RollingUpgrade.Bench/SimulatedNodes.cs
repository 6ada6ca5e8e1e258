using System.Globalization;
using System.Text;

namespace RollingUpgrade.Bench;

/// <summary>
/// Nodes that are folders on this machine, run by the generic product over local access: status is a file, a start
/// copies the installed version into place. No load balancer unless asked, so a run's own work (and the processes its
/// commands start) is all there is to measure.
/// </summary>
internal static class SimulatedNodes
{
    /// <param name="operationMs">
    /// How long a stop, an install and a start each take (a sleep, which costs this machine no CPU, as an operation on
    /// a remote host would not); 0: at once, so the figures are the control host's own work.
    /// </param>
    /// <param name="proxyAdmin">
    /// The admin address of a <c>rollingupgrade proxy</c> whose cluster <c>bench</c> has every node as a destination
    /// (<see cref="ProxyConfig"/>): the nodes are then drained and put back in it; null: no load balancer.
    /// </param>
    public static string WritePlan(string root, int nodes, int batch, int operationMs = 0, string? proxyAdmin = null)
    {
        var wait =
            operationMs > 0
                ? string.Create(CultureInfo.InvariantCulture, $"sleep {operationMs / 1000.0:0.###} && ")
                : string.Empty;
        var text = new StringBuilder("[cluster]\nname = \"bench\"\n\n");
        for (var i = 1; i <= nodes; i++)
        {
            text.Append(
                CultureInfo.InvariantCulture,
                $"[[nodes]]\nname = \"n{i}\"\nhost = \"{Host(i)}\"\n"
                    + $"erlang_node = \"n{i}@sim\"\nvars = {{ dir = \"{Path.Combine(root, $"n{i}")}\" }}\n"
            );
            text.Append(
                proxyAdmin is null
                    ? "\n"
                    : $"lb_ids = {{ proxy = \"n{i.ToString(CultureInfo.InvariantCulture)}\" }}\n\n"
            );
        }

        if (proxyAdmin is not null)
        {
            text.Append(
                CultureInfo.InvariantCulture,
                $"[[load_balancers]]\nname = \"proxy\"\nkind = \"yarp\"\nadmin_url = \"http://{proxyAdmin}\"\n"
                    + $"cluster = \"bench\"\n\n"
            );
        }

        text.Append(
            """
            [access]
            kind = "local"

            [product]
            kind = "generic"

            [product.commands]
            status = "test -f {var.dir}/running"
            version = { run = "cat {var.dir}/version", parse = "regex", pattern = '^(\S+)' }
            sessions = "echo 0"

            """
        );
        text.Append(
            $"stop = \"{wait}rm -f {{var.dir}}/running\"\n"
                + $"start = \"{wait}cp {{var.dir}}/installed {{var.dir}}/version && touch {{var.dir}}/running\"\n\n"
                + "[upgrade]\ntarget_version = \"2.0\"\nbackup_config = false\n"
                + $"install = \"{wait}echo {{version}} > {{var.dir}}/installed\"\n\n"
                + "[strategy]\nkind = \"rolling\"\ncapacity_nodes = 1\n"
        );
        text.Append(CultureInfo.InvariantCulture, $"batch_size = {batch}\n\n");
        text.Append(
            """
            [strategy.drain]
            timeout = "5s"
            poll_interval = "100ms"
            zero_readings = 1

            """
        );
        var path = Path.Combine(root, "plan.toml");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>The address of node <paramref name="i"/> (1-based): 127.0.1.2 onwards.</summary>
    public static string Host(int i) => $"127.0.{1 + i / 250}.{1 + i % 250}";

    /// <summary>
    /// A proxy configuration with every node as a destination of cluster <c>bench</c> (TCP port
    /// <paramref name="port"/>, checked every second) and one TCP listener.
    /// </summary>
    public static string ProxyConfig(int nodes, int port, int admin, int listen)
    {
        var text = new StringBuilder(
            $"[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n[[clusters]]\nname = \"bench\"\nhealth_interval = \"1s\"\n\n"
        );
        for (var i = 1; i <= nodes; i++)
        {
            text.Append(
                CultureInfo.InvariantCulture,
                $"[[clusters.destinations]]\nname = \"n{i}\"\nhost = \"{Host(i)}\"\ntcp_port = {port}\n\n"
            );
        }

        text.Append(
            CultureInfo.InvariantCulture,
            $"[[listeners]]\nkind = \"tcp\"\nlisten = \"127.0.0.1:{listen}\"\ncluster = \"bench\"\n"
        );
        return text.ToString();
    }

    public static void Reset(string root, int nodes)
    {
        for (var i = 1; i <= nodes; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, $"n{i}")).FullName;
            File.WriteAllText(Path.Combine(dir, "version"), "1.0");
            File.WriteAllText(Path.Combine(dir, "installed"), "1.0");
            File.WriteAllText(Path.Combine(dir, "running"), string.Empty);
        }
    }
}
