using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace RollingUpgrade.Tests.Lab;

/// <summary>
/// deploy/docker/Dockerfile, as shipped, built on the test daemon from the local Debian base with the single-file
/// binary, run through its own ENTRYPOINT: it runs as a non-root user, and `demo` succeeds inside it.
/// </summary>
[Collection(nameof(Packages))]
public sealed class ContainerImageTests(Packages packages)
{
    [DockerFact(Timeout = 900_000)]
    public async Task The_tool_image_runs_as_a_non_root_user_and_its_demo_succeeds()
    {
        var context = Directory.CreateTempSubdirectory("ru-image-").FullName;
        try
        {
            File.Copy(
                Path.Combine(Packages.RepositoryRoot, "deploy", "docker", "Dockerfile"),
                Path.Combine(context, "Dockerfile")
            );
            Directory.CreateDirectory(Path.Combine(context, "out"));
            File.Copy(packages.SingleFile, Path.Combine(context, "out", "rollingupgrade"));
            var image = new ImageFromDockerfileBuilder()
                .WithDockerfileDirectory(context)
                .WithDockerfile("Dockerfile")
                .WithName("rollingupgrade-test:latest")
                .WithBuildArgument("BASE", "local/debian:bookworm")
                .WithCleanUp(false)
                .Build();
            await image.CreateAsync();

            var who = await RunToExitAsync(image.FullName, entrypoint: ["sh", "-c", "id -un; id -u"]);
            who.Code.ShouldBe(0, who.Output);
            who.Output.ShouldStartWith("rollingupgrade\n");
            who.Output.ShouldNotContain("\n0\n");

            var demo = await RunToExitAsync(image.FullName, command: ["demo"]);
            demo.Code.ShouldBe(0, demo.Output);
            demo.Output.ShouldContain("SUCCEEDED: demo-rolling runs 2.0");
            demo.Output.ShouldContain("SUCCEEDED: demo-parallel runs 3.0");
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    private static async Task<(long Code, string Output)> RunToExitAsync(
        string image,
        string[]? command = null,
        string[]? entrypoint = null
    )
    {
        var builder = new ContainerBuilder(image)
            .WithCleanUp(false)
            .WithWaitStrategy(
                Wait.ForUnixContainer()
                    .AddCustomWaitStrategy(new UntilExited(), wait => wait.WithMode(WaitStrategyMode.OneShot))
            );
        if (entrypoint is not null)
        {
            builder = builder.WithEntrypoint(entrypoint);
        }

        if (command is not null)
        {
            builder = builder.WithCommand(command);
        }

        await using var container = builder.Build();
        await container.StartAsync();
        var code = await container.GetExitCodeAsync();
        var (stdout, stderr) = await container.GetLogsAsync(timestampsEnabled: false);
        return (code, stdout + stderr);
    }

    /// <summary>A one-shot container is ready when it has run to its end.</summary>
    private sealed class UntilExited : IWaitUntil
    {
        public Task<bool> UntilAsync(IContainer container) =>
            Task.FromResult(container.State == TestcontainersStates.Exited);
    }
}
