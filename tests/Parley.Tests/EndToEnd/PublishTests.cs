using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue 7: the single-file publish of docs/OPERATIONS.md, made from a copy of the sources (as a clean clone has them,
/// and so the Debug build the other tests run is never touched), then the one file it makes, run with no .NET in reach.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class PublishTests(ITestOutputHelper output)
{
    /// <summary>A cold restore and Release build of every project: 30 s on a quiet 2-core machine, 2 min on a busy one.</summary>
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_published_single_file_adds_a_user_and_serves_without_a_dotnet_runtime()
    {
        var work = Directory.CreateTempSubdirectory("parley-publish-").FullName;
        try
        {
            var published = await PublishAsync(CopySources(work), Path.Combine(work, "dist"));
            var environment = WithoutDotnet(work);

            await using (var help = ParleyProcess.StartExecutable(published, environment, "parley --help", "--help"))
            {
                foreach (var command in new[] { "server", "user", "chat" })
                {
                    await help.WaitForLineAsync(l => l.StartsWith($"  {command} ", StringComparison.Ordinal));
                }

                Assert.Equal(0, await help.WaitForExitAsync());
            }

            var data = Path.Combine(work, "data");
            await using (var add = ParleyProcess.StartExecutable(published, environment, "parley user add",
                "user", "add", "alice", "--password-stdin", "--data-dir", data, "--scram-iterations", "4096"))
            {
                await add.SendLineAsync("alice-password");
                Assert.True(await add.WaitForExitAsync() == 0, add.Stderr);
                await add.ExpectLineAsync("Added alice");
            }

            // SQLite's native library travelled inside the file and was unpacked where the environment said.
            Assert.Single(Directory.GetFiles(Path.Combine(work, "extract"), "libe_sqlite3.so", SearchOption.AllDirectories));

            await using var server = ParleyProcess.StartExecutable(published, environment, "published server",
                "server", "--data-dir", data, "--port", "0", "--scram-iterations", "4096");
            var port = (await server.ExpectLineAsync(ReadyLine())).Groups[1].Value;

            // Nothing of the installed runtime is mapped into the server: it runs on what the file carries.
            var maps = await File.ReadAllLinesAsync($"/proc/{ProcessIdOf(published)}/maps");
            var installedRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..")) + "/";
            Assert.DoesNotContain(maps, l => l.Contains(installedRuntime, StringComparison.Ordinal));
            Assert.Contains(maps, l => l.EndsWith("/libe_sqlite3.so", StringComparison.Ordinal) && l.Contains(Path.Combine(work, "extract"), StringComparison.Ordinal));

            // The published client logs on to the published server with the password the published `user add` stored.
            await using (var client = ParleyProcess.StartExecutable(published, environment, "published client", "chat", "--user", "alice",
                "--host", "127.0.0.1", "--port", port, "--password-stdin", "--listen-port", "0", "--room=none"))
            {
                await client.SendLineAsync("alice-password");
                await client.SendLineAsync("Log on");
                await client.ExpectLineAsync("Connected");
            }

            Assert.True(await server.TerminateAsync() == 0, server.Stderr);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The repository's root files and src/, without bin/ and obj/: what a clean clone holds to publish from.</summary>
    private static string CopySources(string work)
    {
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repository.FullName, "Parley.slnx")))
        {
            repository = repository.Parent ?? throw new InvalidOperationException($"no Parley.slnx above {AppContext.BaseDirectory}");
        }

        var copy = Path.Combine(work, "repository");
        foreach (var file in repository.EnumerateFiles())
        {
            Directory.CreateDirectory(copy);
            file.CopyTo(Path.Combine(copy, file.Name));
        }

        CopyTree(new DirectoryInfo(Path.Combine(repository.FullName, "src")), Path.Combine(copy, "src"));
        return copy;

        static void CopyTree(DirectoryInfo from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in from.EnumerateFiles())
            {
                file.CopyTo(Path.Combine(to, file.Name));
            }

            foreach (var directory in from.EnumerateDirectories().Where(d => d.Name is not ("bin" or "obj")))
            {
                CopyTree(directory, Path.Combine(to, directory.Name));
            }
        }
    }

    /// <summary>Runs the command docs/OPERATIONS.md gives, bounded in time; returns the path of the file it made.</summary>
    private async Task<string> PublishAsync(string repository, string destination)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // --disable-build-servers: no MSBuild node or compiler server outlives the publish holding this test's pipes.
        foreach (var arg in new[] { "publish", "src/Parley.Cli", "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier,
            "-p:PublishSingleFile=true", "-p:DebugType=embedded", "-o", destination, "--disable-build-servers", "-nologo" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using var publish = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(PublishTimeout))
        {
            try
            {
                await publish.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                publish.Kill(entireProcessTree: true);
                Assert.Fail($"dotnet publish took more than {PublishTimeout.TotalMinutes} min:\n{await stdout}\n{await stderr}");
            }
        }

        Assert.True(publish.ExitCode == 0, $"dotnet publish failed ({publish.ExitCode}):\n{await stdout}\n{await stderr}");

        // One file: the runtime, the assemblies, their symbols and SQLite's native library are all inside.
        Assert.Equal(["parley"], Directory.GetFileSystemEntries(destination).Select(Path.GetFileName));
        var published = Path.Combine(destination, "parley");
        output.WriteLine($"dotnet publish took {clock.Elapsed.TotalSeconds:0} s; parley is {new FileInfo(published).Length / 1e6:0.0} MB");
        return published;
    }

    /// <summary>As on a machine without .NET: DOTNET_ROOT leads nowhere and no directory on PATH holds dotnet.</summary>
    private static Dictionary<string, string?> WithoutDotnet(string work) => new()
    {
        ["DOTNET_ROOT"] = Path.Combine(work, "no-dotnet-here"),
        ["PATH"] = string.Join(Path.PathSeparator, (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(d => !File.Exists(Path.Combine(d, "dotnet")))),
        ["DOTNET_HOST_PATH"] = null,

        // Where the host unpacks native libraries from the bundle (default ~/.net): inside this test's directory.
        ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(work, "extract"),
        ["PARLEY_STATE_DIR"] = Path.Combine(work, "client-state"),
        ["XDG_CONFIG_HOME"] = Path.Combine(work, "no-config-here"),
    };

    /// <summary>The one running process whose executable is <paramref name="executable"/>.</summary>
    private static int ProcessIdOf(string executable) =>
        Process.GetProcessesByName("parley").Select(p => p.Id).Single(id =>
        {
            try
            {
                return File.ResolveLinkTarget($"/proc/{id}/exe", returnFinalTarget: false)?.FullName == executable;
            }
            catch (IOException)
            {
                return false; // a process of another test that has just ended
            }
        });

    [GeneratedRegex(@"^Parley server listening on udp 127\.0\.0\.1:(\d+) and tcp 127\.0\.0\.1:\d+; database .+parley\.db$")]
    private static partial Regex ReadyLine();
}
