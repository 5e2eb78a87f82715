using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Parley.Cli.Configuration;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Layered configuration (issue #7) as an operator meets it: parley.json, PARLEY_* variables and flags given to the
/// real <c>parley server</c> and <c>parley user</c>, and the effect seen in the ready line, the log and the database.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class ConfigurationTests
{
    [Fact]
    public async Task The_file_the_environment_and_flags_layer_in_that_order_for_the_server_and_parley_user()
    {
        var root = Directory.CreateTempSubdirectory("parley-config-").FullName;
        try
        {
            // The file alone sets the data directory; the environment overrides its log format; a flag overrides the
            // address both of them set (all loopback, so a wrong winner binds but shows in the ready line).
            var dataDirectory = Path.Combine(root, "data");
            var configHome = Path.Combine(root, "config");
            var file = Path.Combine(configHome, "parley", "parley.json");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["data-dir"] = dataDirectory,
                ["port"] = 0,
                ["scram-iterations"] = 4096,
                ["address"] = "127.0.0.3",
                ["log-format"] = "text",
            }));
            var environment = new Dictionary<string, string?>
            {
                ["XDG_CONFIG_HOME"] = configHome,
                ["PARLEY_ADDRESS"] = "127.0.0.2",
                ["PARLEY_LOG_FORMAT"] = "json",
            };

            await using (var server = ParleyProcess.StartWithEnvironment(environment, "server", "server", "--address", "127.0.0.1"))
            {
                var ready = await server.ExpectLineAsync(ReadyLine());
                Assert.Equal(Path.Combine(dataDirectory, "parley.db"), ready.Groups["database"].Value);

                // A connection that closes without CONNECT is logged: as one JSON object, as the environment asked.
                using (var tcp = new TcpClient())
                {
                    await tcp.ConnectAsync(IPAddress.Loopback, int.Parse(ready.Groups["tcp"].Value, System.Globalization.CultureInfo.InvariantCulture));
                }

                static bool IsConnectionLog(string line) =>
                    line.Contains("before CONNECT", StringComparison.Ordinal) || line.Contains("Refused connection", StringComparison.Ordinal);
                await server.WaitForStderrAsync(IsConnectionLog);
                var log = server.Stderr.Split('\n').First(IsConnectionLog);
                Assert.True(log.StartsWith('{'), $"not a JSON log line: {log}");
                using (var json = JsonDocument.Parse(log))
                {
                    Assert.Equal("Information", json.RootElement.GetProperty("LogLevel").GetString());
                }

                // parley user reads the same file (server keys and all) and so opens the server's database.
                var add = await ParleyProcess.RunAsync("password-1", "user", "add", "alice", "--password-stdin", "--config", file);
                Assert.True(add.ExitCode == 0, add.Stderr);
                var list = await ParleyProcess.RunAsync(null, "user", "list", "--data-dir", dataDirectory);
                Assert.StartsWith("alice\t", list.Lines[0], StringComparison.Ordinal);
                Assert.Equal("1 subscriber", list.Lines[^1]);

                Assert.Equal(0, await server.TerminateAsync());
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("PARLEY_MAX_MESSAGE_BYTES=abc", "", "--max-message-bytes: \"abc\" (from PARLEY_MAX_MESSAGE_BYTES) is not a whole number.")]
    [InlineData("", "--signup sometimes", "--signup: \"sometimes\" (from the command line) is not one of open, invite, closed.")]
    public async Task A_bad_value_stops_start_up_with_a_sentence_naming_the_setting_and_what_it_accepts(string variable, string flags, string expected)
    {
        var environment = new Dictionary<string, string?>();
        if (variable.Split('=') is [var name, var value])
        {
            environment[name] = value;
        }

        var dataDirectory = Path.Combine(Path.GetTempPath(), "parley-never-" + Guid.NewGuid().ToString("N"));
        string[] args = ["server", "--data-dir", dataDirectory, "--port", "0", .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        await using var server = ParleyProcess.StartWithEnvironment(environment, "server", args);
        Assert.Equal(2, await server.WaitForExitAsync());
        await server.WaitForStderrAsync(l => l == expected);
        Assert.Empty(server.Lines);
        Assert.False(Directory.Exists(dataDirectory), "the database was opened before the bad value was noticed");
    }

    [Fact]
    public async Task Server_help_lists_every_setting_with_its_default_and_environment_variable()
    {
        var help = await ParleyProcess.RunAsync(null, "server", "--help");
        Assert.Equal(0, help.ExitCode);
        var line = Assert.Single(help.Lines, l => l.TrimStart().StartsWith("--max-message-bytes ", StringComparison.Ordinal));
        Assert.Contains("[default: 4096", line, StringComparison.Ordinal);
        Assert.Contains("PARLEY_MAX_MESSAGE_BYTES", line, StringComparison.Ordinal);
        foreach (var setting in ServerSettings.All)
        {
            Assert.Contains(help.Lines, l => l.TrimStart().StartsWith(setting.Flag + " ", StringComparison.Ordinal)
                && l.EndsWith($"[default: {setting.DefaultText}; env {setting.EnvironmentVariable}]", StringComparison.Ordinal));
        }
    }

    [GeneratedRegex(@"^Parley server listening on udp 127\.0\.0\.1:\d+ and tcp 127\.0\.0\.1:(?<tcp>\d+); database (?<database>.+)$")]
    private static partial Regex ReadyLine();
}
