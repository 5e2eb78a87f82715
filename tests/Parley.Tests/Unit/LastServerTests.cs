using System.Runtime.CompilerServices;
using System.Text.Json;
using Parley.Cli.Commands;
using Parley.Cli.Terminal;
using Parley.Client;

namespace Parley.Tests.Unit;

/// <summary>Issue 7: <c>parley chat</c> remembers the last server and user in <c>&lt;state-dir&gt;/client.json</c>.</summary>
public sealed class LastServerTests : IDisposable
{
    private static readonly ParleyClientOptions BuiltIn = new();
    private readonly string _stateDirectory = Path.Combine(Directory.CreateTempSubdirectory("parley-state-").FullName, "state");
    private readonly StringWriter _warnings = new();

    private string FilePath => Path.Combine(_stateDirectory, LastServer.FileName);

    [Fact]
    public void What_is_saved_is_loaded_from_a_private_file_with_nothing_left_beside_it()
    {
        new LastServer("chat.example.org", 6000, "alice").Save(_stateDirectory, _warnings);
        new LastServer("127.0.0.1", 5301, "Bob").Save(_stateDirectory, _warnings);

        Assert.Equal(new LastServer("127.0.0.1", 5301, "Bob"), LastServer.Load(_stateDirectory, _warnings));
        Assert.Equal("", _warnings.ToString());
        Assert.Equal([LastServer.FileName], Directory.GetFiles(_stateDirectory).Select(Path.GetFileName));
        using var json = JsonDocument.Parse(File.ReadAllText(FilePath));
        Assert.Equal(("127.0.0.1", 5301, "Bob"),
            (json.RootElement.GetProperty("host").GetString(), json.RootElement.GetProperty("port").GetInt32(), json.RootElement.GetProperty("user").GetString()));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_stateDirectory));
        }
    }

    [Fact]
    public void A_missing_file_or_directory_is_no_last_server_and_no_warning()
    {
        Assert.Null(LastServer.Load(_stateDirectory, _warnings));
        Assert.Equal("", _warnings.ToString());
    }

    [Theory]
    [InlineData("{\"host\": \"127.0.0.1\", \"port\": 5300")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"host\": \"127.0.0.1\", \"user\": \"alice\"}")]
    [InlineData("{\"host\": null, \"port\": 5300, \"user\": \"alice\"}")]
    [InlineData("{\"host\": \"127.0.0.1\", \"port\": \"5300\", \"user\": \"alice\"}")]
    [InlineData("{\"host\": \"127.0.0.1\", \"port\": 70000, \"user\": \"alice\"}")]
    [InlineData("{\"host\": \"\", \"port\": 5300, \"user\": \"alice\"}")]
    [InlineData("{\"host\": \"127.0.0.1\", \"port\": 5300, \"user\": \"\"}")]
    public void A_damaged_file_is_ignored_with_one_warning_that_names_it(string content)
    {
        Directory.CreateDirectory(_stateDirectory);
        File.WriteAllText(FilePath, content);

        Assert.Null(LastServer.Load(_stateDirectory, _warnings));
        var warning = Assert.Single(_warnings.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(FilePath, warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_directory_that_cannot_be_written_costs_a_warning_not_the_program()
    {
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(_stateDirectory)!, "state"), "a file where the directory should be");

        new LastServer("127.0.0.1", 5300, "alice").Save(_stateDirectory, _warnings);

        Assert.Contains("Cannot remember the server", _warnings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_flag_beats_the_environment_which_beats_what_is_remembered_which_beats_the_built_in_default()
    {
        var last = new LastServer("chat.example.org", 6000, "alice");

        Assert.Equal(("10.0.0.7", 7000, "carol"), LastServer.Choose("10.0.0.7", 7000, "carol", "bob", last, BuiltIn));
        Assert.Equal(("chat.example.org", 6000, "bob"), LastServer.Choose(null, null, null, "bob", last, BuiltIn));
        Assert.Equal(("chat.example.org", 6000, "alice"), LastServer.Choose(null, null, null, null, last, BuiltIn));
        Assert.Equal(("chat.example.org", 6000, "alice"), LastServer.Choose(null, null, null, "", last, BuiltIn));
        Assert.Equal((BuiltIn.Host, BuiltIn.Port, (string?)null), LastServer.Choose(null, null, null, null, null, BuiltIn));
        Assert.Equal(("chat.example.org", 7000, "alice"), LastServer.Choose(null, 7000, null, null, last, BuiltIn));
    }

    [Fact]
    public void The_remembered_port_belongs_to_the_remembered_host_and_the_remembered_user_goes_anywhere()
    {
        var last = new LastServer("chat.example.org", 6000, "alice");

        Assert.Equal(("other.example.org", BuiltIn.Port, "alice"), LastServer.Choose("other.example.org", null, null, null, last, BuiltIn));
        Assert.Equal(("CHAT.example.org", 6000, "alice"), LastServer.Choose("CHAT.example.org", null, null, null, last, BuiltIn));
    }

    public void Dispose()
    {
        _warnings.Dispose();
        Directory.Delete(Path.GetDirectoryName(_stateDirectory)!, recursive: true);
    }
}
