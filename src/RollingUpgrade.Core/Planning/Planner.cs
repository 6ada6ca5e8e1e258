using RollingUpgrade.Plans.Model;

namespace RollingUpgrade.Planning;

/// <summary>Turns a plan into its numbered, deterministic steps.</summary>
public static class Planner
{
    public static ExecutionPlan Create(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var migrations =
            plan.Product.Kind == ProductKind.MongooseIm && plan.Upgrade.FromVersion is { } from
                ? MigrationCatalog.Between(from, plan.Upgrade.TargetVersion)
                : [];
        var steps = plan.Strategy switch
        {
            RollingStrategySpec rolling => RollingStrategyPlanner.Steps(plan, rolling),
            ParallelStrategySpec parallel => ParallelStrategyPlanner.Steps(plan, parallel),
            _ => throw new InvalidOperationException("unknown strategy"),
        };
        return new ExecutionPlan(plan.Strategy is RollingStrategySpec ? "rolling" : "parallel", steps, migrations)
        {
            RollbackPathAt = number => RollbackPlanner.Describe(plan, steps, number),
        };
    }
}
