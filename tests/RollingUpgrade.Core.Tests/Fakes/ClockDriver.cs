using Microsoft.Extensions.Time.Testing;

namespace RollingUpgrade.Tests.Fakes;

/// <summary>Moves a fake clock forward while a task waits on it, so tests never sleep for real durations.</summary>
public static class ClockDriver
{
    public static async Task<T> RunAsync<T>(
        FakeTimeProvider clock,
        Func<Task<T>> body,
        TimeSpan? step = null,
        TimeSpan? limit = null
    )
    {
        var task = Task.Run(body);
        var advanced = TimeSpan.Zero;
        var maximum = limit ?? TimeSpan.FromDays(2);
        while (!task.IsCompleted)
        {
            await Task.Delay(1);
            if (task.IsCompleted)
            {
                break;
            }

            clock.Advance(step ?? TimeSpan.FromMilliseconds(250));
            advanced += step ?? TimeSpan.FromMilliseconds(250);
            if (advanced > maximum)
            {
                throw new TimeoutException($"the run did not finish within {maximum} of fake time");
            }
        }

        return await task;
    }
}
