namespace RollingUpgrade.Reporting;

/// <summary>From <see cref="At"/> on, the new (green) cluster took <see cref="GreenPercent"/> of new traffic.</summary>
public sealed record WeightPoint(DateTimeOffset At, int GreenPercent);
