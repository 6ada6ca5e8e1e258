namespace RollingUpgrade.Events;

/// <summary>Receives the user-facing story of a run as it happens.</summary>
public interface IRunObserver
{
    void OnEvent(RunEvent runEvent);
}
