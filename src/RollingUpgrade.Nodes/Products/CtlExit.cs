using RollingUpgrade.Plans.Model;
using RollingUpgrade.Ports;

namespace RollingUpgrade.Nodes.Products;

/// <summary>How mongooseimctl and ejabberdctl end: 0 done, 1 error, 2 usage, 3 node down (badrpc).</summary>
public enum CtlExit
{
    Ok = 0,
    Error = 1,
    Usage = 2,
    NodeDown = 3,
    Other = -1,
}
