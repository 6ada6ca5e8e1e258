namespace RollingUpgrade.Plans.Model;

/// <summary>
/// Where runs live (the <c>[state]</c> table): <c>file</c> (the default, a folder next to the plan) or
/// <c>postgres</c>, shared by a team: the connection string comes from the environment variable
/// <paramref name="UrlEnv"/> (it is a secret), the tables live in <paramref name="Schema"/>, and a run's lease lasts
/// <paramref name="LeaseTtl"/> without renewal (renewed every third of it).
/// </summary>
public sealed record StateSpec(string Kind, string? UrlEnv, string Schema, TimeSpan LeaseTtl)
{
    public const string File = "file";

    public const string Postgres = "postgres";

    public const string DefaultSchema = "rollingupgrade";

    public static readonly TimeSpan DefaultLeaseTtl = TimeSpan.FromSeconds(30);

    public static StateSpec Default { get; } = new(File, null, DefaultSchema, DefaultLeaseTtl);
}
