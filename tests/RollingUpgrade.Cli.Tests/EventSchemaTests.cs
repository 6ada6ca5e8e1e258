using System.Reflection;
using System.Text.Json;
using Json.Schema;
using RollingUpgrade.Events;
using RollingUpgrade.Testing;

namespace RollingUpgrade.Tests;

/// <summary>
/// docs/events.schema.json describes every JSON line the CLI prints for a run: the header first, each event type the
/// code has, the outcome and the report; the output of real runs (succeeded and halted) validates against it.
/// </summary>
public sealed class EventSchemaTests
{
    private static readonly string SchemaPath = Path.Combine(Repository.Root, "docs", "events.schema.json");

    /// <summary>Built once: the library registers a schema by its $id, and a second registration is refused.</summary>
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath)));

    [Fact]
    public void Every_event_type_in_the_code_is_in_the_schema()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        var types = schema
            .RootElement.GetProperty("$defs")
            .GetProperty("event")
            .GetProperty("properties")
            .GetProperty("type")
            .GetProperty("enum")
            .EnumerateArray()
            .Select(e => e.GetString())
            .ToList();
        var inCode = typeof(RunEventTypes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();
        inCode.Count.ShouldBeGreaterThan(8);
        inCode.ShouldAllBe(t => types.Contains(t), "every RunEventTypes constant is in the schema's event types");
        types.ShouldAllBe(t => inCode.Contains(t!), "the schema names no type the code does not have");
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_json_output_of_a_real_run_validates_and_begins_with_its_header(bool halts)
    {
        using var cluster = new LocalCluster();
        var plan = halts ? cluster.WritePlan(install: "exit 3") : cluster.WritePlan();

        var result = await CliRunner.RunAsync("run", plan, "--output", "json");

        result.ExitCode.ShouldBe(halts ? 1 : 0, result.Output + result.Error);
        var schema = Schema.Value;
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBeGreaterThan(10);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var evaluation = schema.Evaluate(json.RootElement, options);
            evaluation.IsValid.ShouldBeTrue($"{line}\n{Errors(evaluation)}");
        }

        using var header = JsonDocument.Parse(lines[0]);
        header.RootElement.GetProperty("type").GetString().ShouldBe("header");
        header.RootElement.GetProperty("plan_fingerprint").GetString()!.Length.ShouldBe(64);
        var run = header.RootElement.GetProperty("run").GetString();
        run.ShouldNotBeNullOrEmpty();
        foreach (var line in lines.Skip(1))
        {
            using var json = JsonDocument.Parse(line);
            json.RootElement.GetProperty("run").GetString().ShouldBe(run, line);
        }

        using var outcome = JsonDocument.Parse(
            lines.Single(l => l.Contains("\"type\":\"outcome\"", StringComparison.Ordinal))
        );
        outcome.RootElement.GetProperty("status").GetString().ShouldBe(halts ? "Halted" : "Succeeded");
        lines[^1].ShouldContain("\"type\":\"report\"");
    }

    private static string Errors(EvaluationResults results) =>
        string.Join(
            "\n",
            (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))
        );
}
