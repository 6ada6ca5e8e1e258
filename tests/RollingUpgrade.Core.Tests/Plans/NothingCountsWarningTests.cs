using RollingUpgrade.Plans;

namespace RollingUpgrade.Tests.Plans;

/// <summary>A plan where nothing can count a node's connections is valid, but says what its drains will do.</summary>
public sealed class NothingCountsWarningTests
{
    private static string Plan(string sessions) =>
        $$"""
            [cluster]
            name = "c"

            [[nodes]]
            name = "n1"
            host = "127.0.0.11"
            erlang_node = "a1@127.0.0.11"
            lb_ids = { alb = "127.0.0.11" }

            [[nodes]]
            name = "n2"
            host = "127.0.0.12"
            erlang_node = "a2@127.0.0.12"
            lb_ids = { alb = "127.0.0.12" }

            [access]
            kind = "local"

            [product]
            kind = "generic"
            [product.commands]
            status = "true"
            stop = "true"
            start = "true"
            {{sessions}}

            [[load_balancers]]
            name = "alb"
            kind = "aws-elbv2"
            region = "eu-west-1"
            target_groups = ["blue-tg"]
            port = 5222

            [upgrade]
            target_version = "2.0"
            install = "true"
            backup_config = false

            [strategy]
            kind = "rolling"
            capacity_nodes = 1
            """;

    [Fact]
    public void Behind_elbv2_alone_a_node_without_a_sessions_command_is_warned_about()
    {
        var result = PlanLoader.Load(Plan(string.Empty), "plan.toml");

        result.Plan.ShouldNotBeNull(string.Join("; ", result.Diagnostics));
        result.Diagnostics.ShouldContain(d => d.IsWarning && d.Message.Contains("nothing counts a node's connections"));
    }

    [Fact]
    public void A_sessions_command_is_enough()
    {
        var result = PlanLoader.Load(Plan("sessions = [\"cat\", \"/tmp/sessions\"]"), "plan.toml");

        result.Diagnostics.ShouldNotContain(d => d.Message.Contains("nothing counts"));
    }
}
