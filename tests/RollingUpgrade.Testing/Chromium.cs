using System.Diagnostics;
using System.Globalization;

namespace RollingUpgrade.Testing;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c>, installed by the test script) opening a local file: a screenshot, and
/// the page as Chromium parsed it. Each call is a process of its own with a profile folder of its own, stopped by its
/// process id (with its children) if it does not finish in time.
/// </summary>
public static class Chromium
{
    public const string Path = "/usr/bin/chromium";

    public static async Task<string> ScreenshotAsync(string html, string png, int width = 1280, int height = 2400)
    {
        await RunAsync(
                html,
                $"--screenshot={png}",
                string.Create(CultureInfo.InvariantCulture, $"--window-size={width},{height}")
            )
            .ConfigureAwait(false);
        return png;
    }

    /// <summary>The DOM after Chromium loaded the page (serialised back to HTML).</summary>
    public static Task<string> DumpDomAsync(string html) => RunAsync(html, "--dump-dom");

    private static async Task<string> RunAsync(string html, params string[] extra)
    {
        var profile = Directory.CreateTempSubdirectory("ru-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(Path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (
                var argument in new[]
                {
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--no-first-run",
                    "--disable-extensions",
                    "--disable-background-networking",
                    $"--user-data-dir={profile}",
                }
                    .Concat(extra)
                    .Append(new Uri(System.IO.Path.GetFullPath(html)).AbsoluteUri)
            )
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within 60 s: {await error.ConfigureAwait(false)}");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"chromium exited with {process.ExitCode}: {await error.ConfigureAwait(false)}"
                );
            }

            return await output.ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
