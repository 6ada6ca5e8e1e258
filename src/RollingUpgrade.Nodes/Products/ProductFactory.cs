using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

public static class ProductFactory
{
    /// <param name="values">The placeholder values of the step being run; outside a run, the plan's.</param>
    public static IProduct Create(
        Plan plan,
        IShellFactory shells,
        ICommandValues? values = null,
        TimeProvider? time = null
    )
    {
        ArgumentNullException.ThrowIfNull(plan);
        var clock = time ?? TimeProvider.System;
        return plan.Product.Kind switch
        {
            ProductKind.MongooseIm => new MongooseImProduct(plan, shells, clock, values),
            ProductKind.Ejabberd => new EjabberdProduct(plan, shells, clock, values: values),
            _ => new GenericProduct(plan, shells, clock, values),
        };
    }
}
