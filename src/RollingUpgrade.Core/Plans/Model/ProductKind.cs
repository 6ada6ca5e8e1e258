namespace RollingUpgrade.Plans.Model;

public enum ProductKind
{
    MongooseIm,
    Ejabberd,
    Generic,
}
