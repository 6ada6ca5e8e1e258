using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

public static class ProductFactory
{
    public static IProduct Create(Plan plan, IShellFactory shells, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var clock = time ?? TimeProvider.System;
        return plan.Product.Kind switch
        {
            ProductKind.MongooseIm => new MongooseImProduct(plan, shells, clock),
            ProductKind.Ejabberd => new EjabberdProduct(plan, shells, clock),
            _ => new GenericProduct(plan, shells, clock),
        };
    }
}
