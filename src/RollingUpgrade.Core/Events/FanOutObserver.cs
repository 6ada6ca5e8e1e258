namespace RollingUpgrade.Events;

/// <summary>
/// Hands every event to each observer in turn, one event at a time (events also come from background work such as
/// heartbeats and notification warnings).
/// </summary>
public sealed class FanOutObserver(params IRunObserver[] observers) : IRunObserver
{
    private readonly Lock _gate = new();

    public void OnEvent(RunEvent runEvent)
    {
        lock (_gate)
        {
            foreach (var observer in observers)
            {
                observer.OnEvent(runEvent);
            }
        }
    }
}
