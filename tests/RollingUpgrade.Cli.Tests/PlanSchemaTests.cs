using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using RollingUpgrade.Plans.Schema;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// docs/plan.schema.json is what the binder accepts: it is the generator's output (regenerate with
/// `rollingupgrade schema > docs/plan.schema.json`), every example plan validates against it, and keys or values the
/// binder refuses fail it too.
/// </summary>
public sealed class PlanSchemaTests
{
    private static readonly string SchemaPath = Path.Combine(Repository.Root, "docs", "plan.schema.json");

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath)));

    private static EvaluationResults Evaluate(string toml)
    {
        var json = JsonSerializer.SerializeToElement(
            Json(Tomlyn.TomlSerializer.Deserialize<Tomlyn.Model.TomlTable>(toml))
        );
        return Schema.Value.Evaluate(json, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    /// <summary>A TOML model as JSON: tables are objects, arrays of tables and values arrays, the rest scalars.</summary>
    private static JsonNode? Json(object? value) =>
        value switch
        {
            Tomlyn.Model.TomlTable table => new JsonObject(
                table.Select(p => KeyValuePair.Create(p.Key, Json(p.Value)))
            ),
            Tomlyn.Model.TomlTableArray tables => new JsonArray([.. tables.Select(t => Json(t))]),
            Tomlyn.Model.TomlArray array => new JsonArray([.. array.Select(Json)]),
            string s => JsonValue.Create(s),
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            bool b => JsonValue.Create(b),
            _ => JsonValue.Create(value?.ToString()),
        };

    private static string Errors(EvaluationResults results) =>
        string.Join(
            "\n",
            (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))
        );

    [Fact]
    public async Task The_schema_in_docs_is_the_one_the_binder_generates()
    {
        var generated = PlanSchema.Generate();

        File.ReadAllText(SchemaPath)
            .ShouldBe(generated, "docs/plan.schema.json is stale: run `rollingupgrade schema > docs/plan.schema.json`");
        var printed = await CliRunner.RunAsync("schema");
        printed.ExitCode.ShouldBe(0);
        printed.Output.ShouldBe(generated);
    }

    public static TheoryData<string> Examples() =>
        new(Directory.GetFiles(Path.Combine(Repository.Root, "deploy", "examples"), "*.toml").Order());

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_plan_validates(string path)
    {
        var results = Evaluate(File.ReadAllText(path));

        results.IsValid.ShouldBeTrue(Errors(results));
    }

    [Theory]
    [InlineData("capacity_nodes = 2", "capacity_nodes = 2\nbatchsize = 1")]
    [InlineData("kind = \"rolling\"", "kind = \"rollin\"")]
    [InlineData("[upgrade]", "[upgrade]\nbackup_keep = \"five\"")]
    [InlineData("[cluster]", "[clusters]\nname = \"x\"\n[cluster]")]
    public void What_the_binder_refuses_the_schema_refuses(string find, string replace)
    {
        var plan = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "examples", "rolling-mongooseim.toml"));
        plan.ShouldContain(find);

        var results = Evaluate(plan.Replace(find, replace, StringComparison.Ordinal));

        results.IsValid.ShouldBeFalse();
        Plans
            .PlanLoader.Load(plan.Replace(find, replace, StringComparison.Ordinal), "x.toml")
            .Succeeded.ShouldBeFalse();
    }

    [Fact]
    public void Keys_read_only_for_one_kind_say_so_for_hover()
    {
        var schema = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        var gate = schema["properties"]!["gates"]!["items"]!["properties"]!;

        gate["query"]!["description"]!.GetValue<string>().ShouldBe("for kind = prometheus");
        gate["kind"]!["enum"]!.AsArray().Select(k => k!.GetValue<string>()).ShouldContain("prometheus");
        schema["required"]!
            .AsArray()
            .Select(k => k!.GetValue<string>())
            .ShouldBe(["cluster", "nodes", "access", "product", "upgrade", "strategy"], ignoreOrder: true);
    }
}
