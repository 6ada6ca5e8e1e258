namespace RollingUpgrade.Plans.Model;

public enum ProductKind
{
    MongooseIm,
    Ejabberd,
    Generic,
}

public enum MongooseCliDialect
{
    Auto,
    Legacy,
    GraphQl,
}

/// <summary>What runs on the nodes and how to ask it things.</summary>
public sealed record ProductSpec
{
    public required ProductKind Kind { get; init; }

    public MongooseCliDialect Cli { get; init; } = MongooseCliDialect.Auto;

    /// <summary>The control command (mongooseimctl, ejabberdctl) as an argument vector prefix.</summary>
    public IReadOnlyList<string> Ctl { get; init; } = [];

    public string? ConfigPath { get; init; }

    /// <summary>For the generic product: one command per operation.</summary>
    public IReadOnlyDictionary<string, GenericOperation> Operations { get; init; } = new Dictionary<string, GenericOperation>();

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(2);
}
