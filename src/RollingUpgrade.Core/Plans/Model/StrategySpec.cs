namespace RollingUpgrade.Plans.Model;

public abstract record StrategySpec(DrainSpec Drain);
