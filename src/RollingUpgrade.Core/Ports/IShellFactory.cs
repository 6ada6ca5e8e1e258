namespace RollingUpgrade.Ports;

public interface IShellFactory
{
    INodeShell For(Plans.Model.NodeSpec node);
}
