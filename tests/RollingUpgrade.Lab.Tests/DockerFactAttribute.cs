namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// A test that needs the Docker daemon tests/docker/with-docker.sh starts: reported as skipped, with the reason,
/// when that daemon could not start (never silently passed).
/// </summary>
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (Docker.Unavailable() is { } why)
        {
            Skip = $"Docker is not available: {why}";
        }
    }
}

public static class Docker
{
    /// <summary>Why Docker cannot be used here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (Environment.GetEnvironmentVariable("ROLLINGUPGRADE_DOCKER_UNAVAILABLE") is { Length: > 0 } reason)
        {
            return reason;
        }

        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (host is null || !host.StartsWith("unix://", StringComparison.Ordinal))
        {
            return "DOCKER_HOST is not set: run the tests through tests/run-all.sh (tests/docker/with-docker.sh)";
        }

        return File.Exists(host["unix://".Length..]) ? null : $"no daemon answers at {host}";
    }
}
