using RollingUpgrade.Nodes.Products;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Tests;

/// <summary>A refusal of the control command reaches the operator whole, whatever shape it is printed in.</summary>
public sealed class CtlResultTests
{
    [Fact]
    public void Every_graphql_error_is_message_and_code_not_the_first_line_of_the_json()
    {
        // src/ejabberd_ctl.erl handle_graphql_result/1 (6.x): pretty JSON over many lines, exit 1.
        var output = File.ReadAllText(
            Path.Combine(AppContext.BaseDirectory, "Fixtures", "mim-graphql-deps-not-loaded.json")
        );
        var twice = output.Replace(
            "\"errors\" : [",
            "\"errors\" : [{\"message\" : \"Node not found\", \"extensions\" : {\"code\" : \"pang\"}},",
            StringComparison.Ordinal
        );

        var error = Should.Throw<UnexpectedAnswerException>(() =>
            new CtlResult(1, twice, string.Empty).Require("mim-1", "mnesia systemInfo")
        );

        error.Message.ShouldBe(
            "mnesia systemInfo on mim-1 failed with exit code 1: Node not found (pang); Some of the required services "
                + "or modules are not loaded (deps_not_loaded)"
        );
    }

    [Fact]
    public void Every_line_from_the_first_error_line_on_is_kept()
    {
        // ejabberdctl join_cluster to a node it cannot reach prints the reason term on the line after "Error:".
        var result = new CtlResult(1, "Error: error\n{no_ping,'ejabberd@ej9'}\n", string.Empty);

        result.Reason().ShouldBe("Error: error {no_ping,'ejabberd@ej9'}");
    }

    [Fact]
    public void Other_output_is_its_first_line()
    {
        new CtlResult(1, "\nsomething went wrong\nmore\n", string.Empty).Reason().ShouldBe("something went wrong");
        new CtlResult(1, "{ not json", string.Empty).Reason().ShouldBe("{ not json");
    }
}
