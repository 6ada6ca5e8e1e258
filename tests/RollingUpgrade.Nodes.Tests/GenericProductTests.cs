using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Nodes.Shells;
using RollingUpgrade.Plans;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>
/// The generic product: every operation a command from the plan, read by exit code, regex, JSON path or lines.
/// </summary>
public sealed class GenericProductTests
{
    private static (IProduct Product, NodeSpec Node) Build(string commands)
    {
        var text = $"""
            [cluster]
            name = "generic"

            [[nodes]]
            name = "a"
            host = "127.0.0.11"
            erlang_node = "app@a"

            [[nodes]]
            name = "b"
            host = "127.0.0.12"
            erlang_node = "app@b"

            [access]
            kind = "local"

            [product]
            kind = "generic"
            [product.commands]
            {commands}

            [upgrade]
            target_version = "2.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;
        var result = PlanLoader.Load(text, "generic.toml");
        result.Plan.ShouldNotBeNull(string.Join("\n", result.Diagnostics));
        return (ProductFactory.Create(result.Plan, new ShellFactory(result.Plan)), result.Plan.Nodes[0]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Version_by_regex_and_members_by_json_path()
    {
        var (product, node) = Build(
            """
            status = "true"
            stop = "true"
            start = "true"
            version = { run = "echo 'build: release 2.0.1 (abc)'", parse = "regex", pattern = 'release (\S+)' }
            members = { run = "echo '{\"cluster\":{\"nodes\":[\"app@a\",\"app@b\"]}}'", parse = "json-path", pattern = "$.cluster.nodes[*]" }
            sessions = { run = "echo '{\"stats\":[{\"live\":12}]}'", parse = "json-path", pattern = "$.stats[0].live" }
            """
        );

        var status = await product.StatusAsync(node, CancellationToken.None);
        var membership = await product.MembershipAsync(node, CancellationToken.None);
        var sessions = await product.SessionCountAsync(node, CancellationToken.None);

        status.Version.ShouldBe("2.0.1");
        membership.Running.ShouldBe(["app@a", "app@b"]);
        sessions.ShouldBe(12);
    }

    [Fact(Timeout = 30_000)]
    public async Task Status_by_exit_code_and_garbage_sessions_are_refused()
    {
        var (product, node) = Build(
            """
            status = "exit 3"
            stop = "true"
            start = "true"
            sessions = "echo lots"
            """
        );

        (await product.StatusAsync(node, CancellationToken.None)).State.ShouldBe(NodeRunState.Stopped);
        var error = await Should.ThrowAsync<UnexpectedAnswerException>(() =>
            product.SessionCountAsync(node, CancellationToken.None)
        );
        error.Message.ShouldContain("'lots', not a number");
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_a_members_command_membership_is_which_nodes_answer_status()
    {
        var (product, node) = Build(
            """
            status = "test {node} = a"
            stop = "true"
            start = "true"
            """
        );

        var membership = await product.MembershipAsync(node, CancellationToken.None);

        membership.Running.ShouldBe(["app@a"]);
        membership.Stopped.ShouldBe(["app@b"]);
    }

    /// <summary>
    /// Without a members command, membership is every node's status. The checks of one round share one read per
    /// node (a run's reads stay linear in its nodes); a node the product stops is read again at once.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task Membership_without_a_members_command_reads_each_status_once_per_round()
    {
        var folder = Directory.CreateTempSubdirectory("ru-status-").FullName;
        try
        {
            var log = Path.Combine(folder, "reads");
            var (product, node) = Build(
                $"""
                status = "sh -c 'echo {"{node}"} >> {log}; test ! -e {folder}/{"{node}"}.down'"
                stop = "touch {folder}/{"{node}"}.down"
                start = "rm -f {folder}/{"{node}"}.down"
                """
            );
            var b = new NodeSpec("b", "127.0.0.12", "app@b", new Dictionary<string, string>());

            var views = new List<Membership>();
            for (var i = 0; i < 3; i++)
            {
                views.Add(await product.MembershipAsync(node, CancellationToken.None));
            }

            views.ShouldAllBe(v => v.Running.SequenceEqual(new[] { "app@a", "app@b" }));
            File.ReadAllLines(log).Order().ShouldBe(["a", "b"]);

            await product.StopAsync(b, CancellationToken.None);
            var after = await product.MembershipAsync(node, CancellationToken.None);

            after.Running.ShouldBe(["app@a"]);
            after.Stopped.ShouldBe(["app@b"]);
            File.ReadAllLines(log).Order().ShouldBe(["a", "b", "b"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
