using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>Plan texts for engine tests, built from a few knobs.</summary>
public static class TestPlans
{
    public static string Rolling(
        int nodes = 3,
        int capacity = 2,
        int batch = 1,
        string onTimeout = "fail",
        string timeout = "1m",
        string policy = "halt",
        string extraStrategy = "",
        string gates = "",
        string loadBalancers = "lb-a"
    )
    {
        var lbs = loadBalancers.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var text = new System.Text.StringBuilder();
        text.AppendLine("[cluster]\nname = \"test\"\n");
        for (var i = 1; i <= nodes; i++)
        {
            text.AppendLine(
                $"[[nodes]]\nname = \"n{i}\"\nhost = \"127.0.0.{10 + i}\"\nerlang_node = \"ejabberd{i}@127.0.0."
                    + $"{10 + i}\""
            );
            text.AppendLine($"lb_ids = {{ {string.Join(", ", lbs.Select(l => $"{l} = \"srv{i}\""))} }}\n");
        }

        text.AppendLine("[access]\nkind = \"local\"\n");
        text.AppendLine("[product]\nkind = \"ejabberd\"\nconfig_path = \"/etc/app.toml\"\n");
        foreach (var lb in lbs)
        {
            text.AppendLine(
                $"[[load_balancers]]\nname = \"{lb}\"\nkind = \"haproxy\"\nsockets = [\"/run/{lb}.sock\"]\nbackends "
                    + $"= [\"be_xmpp\"]\n"
            );
        }

        text.AppendLine(
            "[upgrade]\ntarget_version = \"24.0\"\ninstall = [\"install\", \"{version}\"]\nrollback_install = "
                + "[\"reinstall\", \"{from_version}\"]\n"
        );
        text.AppendLine(gates);
        text.AppendLine(
            $"[strategy]\nkind = \"rolling\"\ncapacity_nodes = {capacity}\nbatch_size = {batch}\n{extraStrategy}\n"
        );
        text.AppendLine(
            $"[strategy.drain]\ntimeout = \"{timeout}\"\non_timeout = \"{onTimeout}\"\neviction_rate = "
                + $"2\npoll_interval = \"1s\"\nzero_readings = 3\n"
        );
        text.AppendLine($"[rollback]\npolicy = \"{policy}\"");
        return text.ToString();
    }

    public static string Parallel(string steps = "[10, 50, 100]", string extra = "", string gates = "")
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("[cluster]\nname = \"test\"\n");
        for (var i = 1; i <= 2; i++)
        {
            text.AppendLine(
                $"[[nodes]]\nname = \"b{i}\"\nhost = \"127.0.0.{10 + i}\"\nerlang_node = \"blue{i}@127.0.0."
                    + $"{10 + i}\"\nlb_ids = {{ lb-a = \"b{i}\" }}\n"
            );
        }

        text.AppendLine("[access]\nkind = \"local\"\n");
        text.AppendLine("[product]\nkind = \"ejabberd\"\nconfig_path = \"/etc/app.toml\"\n");
        text.AppendLine(
            "[[load_balancers]]\nname = \"lb-a\"\nkind = \"haproxy\"\nsockets = [\"/run/a.sock\"]\nbackends = "
                + "[\"be_xmpp\"]\n"
        );
        text.AppendLine("[upgrade]\ntarget_version = \"24.0\"\nbackup_config = false\n");
        text.AppendLine(gates);
        text.AppendLine(
            $"[strategy]\nkind = \"parallel\"\ntraffic_steps = {steps}\nprovision = [[\"provision\", "
                + $"\"{{version}}\"]]\n{extra}\n"
        );
        for (var i = 1; i <= 2; i++)
        {
            text.AppendLine(
                $"[[strategy.green_nodes]]\nname = \"g{i}\"\nhost = \"127.0.0.{20 + i}\"\nerlang_node = \"green"
                    + $"{i}@127.0.0.{20 + i}\"\nlb_ids = {{ lb-a = \"g{i}\" }}\n"
            );
        }

        text.AppendLine("[strategy.drain]\ntimeout = \"1m\"\npoll_interval = \"1s\"\nzero_readings = 3\n");
        return text.ToString();
    }

    public static Plan Load(string text)
    {
        var result = PlanLoader.Load(text, "test.toml");
        result.Diagnostics.Where(d => !d.IsWarning).ShouldBeEmpty(string.Join("\n", result.Diagnostics));
        return result.Plan!;
    }

    /// <summary>A world matching <see cref="Rolling"/>: every node started on 23.01 in one cluster.</summary>
    public static FakeWorld RollingWorld(TimeProvider time, int nodes = 3)
    {
        var world = new FakeWorld(time);
        for (var i = 1; i <= nodes; i++)
        {
            world.Add($"n{i}", $"ejabberd{i}@127.0.0.{10 + i}", "23.01");
        }

        return world;
    }

    public static FakeWorld ParallelWorld(TimeProvider time)
    {
        var world = new FakeWorld(time);
        for (var i = 1; i <= 2; i++)
        {
            world.Add($"b{i}", $"blue{i}@127.0.0.{10 + i}", "23.01");
            var green = world.Add($"g{i}", $"green{i}@127.0.0.{20 + i}", "");
            green.Running = false;
            green.Cluster = $"green-{i}";
        }

        return world;
    }
}
