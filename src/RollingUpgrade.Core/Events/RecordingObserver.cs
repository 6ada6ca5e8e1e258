namespace RollingUpgrade.Events;

/// <summary>Collects events in memory (tests, reports).</summary>
internal sealed class RecordingObserver : IRunObserver
{
    private readonly List<RunEvent> _events = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<RunEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    public void OnEvent(RunEvent runEvent)
    {
        lock (_gate)
        {
            _events.Add(runEvent);
        }
    }
}
