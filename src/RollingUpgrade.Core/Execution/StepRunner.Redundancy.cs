using RollingUpgrade.Events;
using RollingUpgrade.Planning;
using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Execution;

internal sealed partial class StepRunner
{
    /// <summary>
    /// Rolling, before anything is touched: every batch's tables have copies on the nodes that stay up while it
    /// is out. One refusal names every table of every batch.
    /// </summary>
    private static async Task ExpectRedundancyBeforeStartAsync(RunContext context, CancellationToken cancellationToken)
    {
        if (context.Plan.Strategy is not RollingStrategySpec)
        {
            return;
        }

        var tables = await LocalTablesAsync(context, context.Blue, cancellationToken).ConfigureAwait(false);
        if (tables is null)
        {
            return;
        }

        var sole = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var batch in Batches(context))
        {
            var staying = context.Blue.Select(n => n.Name).Except(batch, StringComparer.Ordinal).ToList();
            foreach (var (node, list) in SoleCopies(context, tables, batch, staying))
            {
                sole[node] = list;
            }
        }

        if (sole.Count > 0)
        {
            throw new StepFailedException(Refusal(context, sole), nodeTouched: false);
        }
    }

    /// <summary>
    /// Right before a rolling stop: the node's tables must have a copy on a running node outside its batch. Read
    /// again here because tables come and go during a run (a module the new version enables creates its own).
    /// </summary>
    private static async Task ExpectRedundancyBeforeStopAsync(
        Step step,
        RunContext context,
        NodeSpec node,
        CancellationToken cancellationToken
    )
    {
        // A generic product has no mnesia tables to tell of: asking would only read every node's status again.
        if (
            context.Plan.Strategy is not RollingStrategySpec
            || step.Kind != StepKind.Stop
            || context.Plan.Product.Kind == ProductKind.Generic
        )
        {
            return;
        }

        var own = await context.Product.MembershipAsync(node, cancellationToken).ConfigureAwait(false);
        if (own.LocalTables is null)
        {
            return;
        }

        // The forward plan's batches; a rollback's stops go one node at a time.
        var batch =
            step.Batch is { } number && step.Phase == RunPhase.Forward
                ? context
                    .Steps.Steps.Where(s => s.Batch == number && s.Kind == StepKind.Stop && s.Phase == RunPhase.Forward)
                    .Select(s => s.Node!)
                    .Append(node.Name)
                    .ToList()
                : [node.Name];
        var staying = context.Blue.Where(n => own.Running.Contains(n.ErlangNode) && !batch.Contains(n.Name)).ToList();
        var tables = await LocalTablesAsync(context, staying, cancellationToken).ConfigureAwait(false);
        if (tables is null)
        {
            return;
        }

        tables[node.Name] = own.LocalTables;
        var sole = SoleCopies(context, tables, [node.Name], staying.Select(n => n.Name).ToList());
        if (sole.Count > 0)
        {
            throw new StepFailedException(Refusal(context, sole), nodeTouched: false);
        }
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> SoleCopies(
        RunContext context,
        Dictionary<string, IReadOnlyList<string>> tables,
        IReadOnlyCollection<string> leaving,
        IReadOnlyCollection<string> staying
    ) => RedundancyCheck.SoleCopies(tables, leaving, staying, context.Plan.Upgrade.SingleCopyTables);

    /// <summary>The nodes of each batch of the rolling plan, in order.</summary>
    private static IEnumerable<List<string>> Batches(RunContext context) =>
        context
            .Steps.Steps.Where(s => s.Kind == StepKind.Stop && s.Phase == RunPhase.Forward)
            .GroupBy(s => s.Batch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? s.Node!)
            .Select(g => g.Select(s => s.Node!).Distinct(StringComparer.Ordinal).ToList());

    /// <summary>
    /// Each node's local tables, read at once; null when the product cannot tell for one of them (the check is
    /// then skipped with a warning, unless it cannot tell for any: a product without mnesia).
    /// </summary>
    private static async Task<Dictionary<string, IReadOnlyList<string>>?> LocalTablesAsync(
        RunContext context,
        IReadOnlyList<NodeSpec> nodes,
        CancellationToken cancellationToken
    )
    {
        var views = await Task.WhenAll(nodes.Select(n => context.Product.MembershipAsync(n, cancellationToken)))
            .ConfigureAwait(false);
        var unknown = nodes.Zip(views).Where(p => p.Second.LocalTables is null).Select(p => p.First.Name).ToList();
        if (unknown.Count == nodes.Count && nodes.Count > 0)
        {
            return null;
        }

        if (unknown.Count > 0)
        {
            context.Emit(
                RunEventTypes.Warning,
                $"cannot tell which mnesia tables {string.Join(", ", unknown)} hold; whether every table keeps a "
                    + "running copy is not checked"
            );
            return null;
        }

        return nodes.Zip(views).ToDictionary(p => p.First.Name, p => p.Second.LocalTables!, StringComparer.Ordinal);
    }

    private static string Refusal(RunContext context, IReadOnlyDictionary<string, IReadOnlyList<string>> sole)
    {
        var debug = context.Plan.Product.Kind == ProductKind.Ejabberd ? "ejabberdctl debug" : "mongooseimctl debug";
        var names = sole
            .Values.SelectMany(t => t)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(t => $"\"{t}\"");
        var which = string.Join(
            "; ",
            sole.Select(s => $"{s.Key} holds the only copy of {RedundancyCheck.List(s.Value)}")
        );
        return $"{which} (no node that stays up has one): while {(sole.Count == 1 ? "it is" : "they are")} "
            + "stopped those mnesia tables are unavailable, and any held in RAM only loses its content. Add a copy "
            + $"on a node that stays up (in `{debug}`: mnesia:add_table_copy(Table, 'name@host', disc_copies), or "
            + "ram_copies for a RAM table), or accept it with [upgrade] single_copy_tables = "
            + $"[{string.Join(", ", names)}]";
    }
}
