namespace RollingUpgrade.Plans.Model;

public enum MongooseCliDialect
{
    Auto,
    Legacy,
    GraphQl,
}
