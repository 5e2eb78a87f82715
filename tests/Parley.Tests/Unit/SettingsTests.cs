using System.Reflection;
using Parley.Cli.Configuration;
using Parley.Cli.Server;
using Parley.Server;

namespace Parley.Tests.Unit;

/// <summary>
/// Layered configuration (issue #7): default &lt; parley.json &lt; PARLEY_* &lt; flag, and the sentence a bad value
/// gets. No process: the environment is a dictionary, and HOME points at a temporary directory so the default
/// config file is this test's own.
/// </summary>
public sealed class SettingsTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("parley-settings-").FullName;
    private readonly Dictionary<string, string> _environment = [];

    public SettingsTests() => _environment["HOME"] = _home;

    private string DefaultConfigPath => Path.Combine(_home, ".config", "parley", "parley.json");

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public void Every_server_option_and_host_setting_can_be_set_by_a_row_of_the_table_and_every_row_sets_something()
    {
        // Whatever property a future option adds, this fails until the table can set it.
        var defaults = ServerConfiguration.Defaults(_ => null);
        string[] candidates = ["7", "7.5", "10.1.2.3", "/elsewhere/x", "on", "off", "none", "closed", "json", "debug"];
        var reached = new HashSet<string>();
        foreach (var setting in ServerSettings.All)
        {
            var changedSomething = false;
            foreach (var text in candidates)
            {
                ServerConfiguration changed;
                try
                {
                    changed = setting.Apply(defaults, text, "from a test");
                }
                catch (InvalidSettingException)
                {
                    continue;
                }

                var differences = Differences(defaults.Server, changed.Server).Concat(Differences(defaults.Host, changed.Host)).ToList();
                changedSomething |= differences.Count > 0;
                reached.UnionWith(differences);
            }

            Assert.True(changedSomething, $"{setting.Flag} changes nothing");
        }

        var properties = SettableProperties(typeof(ParleyServerOptions)).Concat(SettableProperties(typeof(ServerHostSettings)));
        Assert.Empty(properties.Except(reached));
    }

    [Fact]
    public void The_help_shows_each_settings_real_default()
    {
        var defaults = ServerConfiguration.Defaults(_ => null);
        Setting[] derived = [ServerSettings.DataDir, ServerSettings.TcpPort, ServerSettings.AdminSocket];
        foreach (var setting in ServerSettings.All.Except(derived))
        {
            Assert.Equal(defaults, setting.Apply(defaults, setting.DefaultText, "from the help"));
        }
    }

    [Fact]
    public void Each_setting_has_one_name_spelt_three_ways()
    {
        var setting = Assert.Single(ServerSettings.All, s => s.Name == "max-message-bytes");
        Assert.Equal(("--max-message-bytes", "PARLEY_MAX_MESSAGE_BYTES"), (setting.Flag, setting.EnvironmentVariable));
        Assert.EndsWith("[default: 4096; env PARLEY_MAX_MESSAGE_BYTES]", setting.HelpText, StringComparison.Ordinal);
        Assert.Equal(ServerSettings.All.Count, ServerSettings.All.Select(s => s.Name).Distinct().Count());
    }

    [Theory]
    [InlineData(false, false, false, 4096)]
    [InlineData(true, false, false, 1000)]
    [InlineData(false, true, false, 2000)]
    [InlineData(true, true, false, 2000)]
    [InlineData(false, false, true, 3000)]
    [InlineData(true, false, true, 3000)]
    [InlineData(false, true, true, 3000)]
    [InlineData(true, true, true, 3000)]
    public void A_flag_beats_the_environment_which_beats_the_file_which_beats_the_default(bool inFile, bool inEnvironment, bool onCommandLine, int expected)
    {
        if (inFile)
        {
            WriteConfig(DefaultConfigPath, """{ "max-message-bytes": 1000 }""");
        }

        if (inEnvironment)
        {
            _environment["PARLEY_MAX_MESSAGE_BYTES"] = "2000";
        }

        var flags = onCommandLine ? new Dictionary<string, string> { ["max-message-bytes"] = "3000" } : [];
        Assert.Equal(expected, Resolve(flags).Server.MaxMessageBytes);
    }

    [Fact]
    public void Each_setting_takes_its_own_highest_layer()
    {
        WriteConfig(DefaultConfigPath, """{ "data-dir": "/from/file", "address": "127.0.0.3", "log-format": "json", "console": false }""");
        _environment["PARLEY_ADDRESS"] = "127.0.0.2";
        _environment["PARLEY_LOG_FORMAT"] = "text";
        var configuration = Resolve(new() { ["address"] = "::1" });
        Assert.Equal(("/from/file", "::1", LogFormats.Text, false),
            (configuration.Server.DataDirectory, configuration.Server.Address.ToString(), configuration.Host.LogFormat, configuration.Host.Console));
    }

    [Fact]
    public void The_file_is_found_in_XDG_CONFIG_HOME_or_named_by_PARLEY_CONFIG_or_by_config_which_wins()
    {
        var xdg = Path.Combine(_home, "xdg");
        WriteConfig(Path.Combine(xdg, "parley", "parley.json"), """{ "max-rooms": 1 }""");
        WriteConfig(Path.Combine(_home, "env.json"), """{ "max-rooms": 2 }""");
        WriteConfig(Path.Combine(_home, "flag.json"), """{ "max-rooms": 3 }""");
        _environment["XDG_CONFIG_HOME"] = xdg;
        Assert.Equal(1, Resolve().Server.MaxRooms);
        _environment[ConfigFile.EnvironmentVariable] = Path.Combine(_home, "env.json");
        Assert.Equal(2, Resolve().Server.MaxRooms);
        Assert.Equal(3, Resolve(configFlag: Path.Combine(_home, "flag.json")).Server.MaxRooms);
    }

    [Fact]
    public void No_file_at_the_default_place_is_fine_but_a_named_file_must_exist()
    {
        Assert.Equal(ServerConfiguration.Defaults(_environment.GetValueOrDefault).Server.MaxRooms, Resolve().Server.MaxRooms);

        var missing = Path.Combine(_home, "missing.json");
        Assert.Equal($"--config: \"{missing}\" (from the command line) does not exist.", Error(configFlag: missing));
        _environment[ConfigFile.EnvironmentVariable] = missing;
        Assert.Equal($"--config: \"{missing}\" (from PARLEY_CONFIG) does not exist.", Error());
    }

    [Fact]
    public void A_bad_number_is_refused_naming_the_setting_the_value_and_where_it_came_from()
    {
        _environment["PARLEY_MAX_MESSAGE_BYTES"] = "abc";
        Assert.Equal("--max-message-bytes: \"abc\" (from PARLEY_MAX_MESSAGE_BYTES) is not a whole number.", Error());

        _environment.Remove("PARLEY_MAX_MESSAGE_BYTES");
        WriteConfig(DefaultConfigPath, """{ "keepalive": "soon", "max-message-bytes": 4096.5 }""");
        Assert.Equal($"--keepalive: \"soon\" (from {DefaultConfigPath}) is not a number of seconds, such as 30 or 0.5.", Error());
        Assert.Equal($"--max-message-bytes: \"4096.5\" (from {DefaultConfigPath}) is not a whole number.",
            Error(settings: [Assert.Single(ServerSettings.All, s => s.Name == "max-message-bytes")]));
    }

    [Fact]
    public void An_out_of_range_value_is_refused_with_its_range_and_where_it_came_from()
    {
        _environment["PARLEY_PORT"] = "70000";
        Assert.Equal("--port (from PARLEY_PORT) must be between 0 and 65535.", Error());

        _environment.Remove("PARLEY_PORT");
        WriteConfig(DefaultConfigPath, """{ "keepalive": 7200 }""");
        Assert.Equal($"--keepalive (from {DefaultConfigPath}) must be between 1 and 3600 seconds.", Error());
    }

    [Fact]
    public void A_bad_choice_is_refused_with_the_allowed_values()
    {
        Assert.Equal("--signup: \"sometimes\" (from the command line) is not one of open, invite, closed.", Error(new() { ["signup"] = "sometimes" }));
        Assert.Equal("--log-level: \"loud\" (from the command line) is not one of trace, debug, information, warning, error, critical, none.",
            Error(new() { ["log-level"] = "loud" }));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, Resolve(new() { ["log-level"] = "Warning" }).Host.LogLevel);
    }

    [Theory]
    [InlineData("address", "5300", "an IP address")]   // a port in the wrong place, which IPAddress.Parse would take
    [InlineData("metrics-port", "65536", "off or a port from 0 to 65535")]
    [InlineData("console", "maybe", "on or off")]
    [InlineData("data-dir", "", "a path")]
    [InlineData("keepalive", "1e3", "a number of seconds")]
    public void Other_malformed_values_are_refused(string name, string value, string expected) =>
        Assert.StartsWith($"--{name}: \"{value}\" (from the command line) is not {expected}", Error(new() { [name] = value }), StringComparison.Ordinal);

    [Fact]
    public void An_unknown_key_in_the_file_is_an_error_with_a_suggestion_not_silently_ignored()
    {
        WriteConfig(DefaultConfigPath, """{ "max-mesage-bytes": 8192 }""");
        Assert.Equal($"{DefaultConfigPath}: \"max-mesage-bytes\" is not a setting (did you mean \"max-message-bytes\"?); "
            + "the settings are the options of `parley server --help`, without the leading --.", Error());

        // --config names the file; it is not a setting the file can hold.
        WriteConfig(DefaultConfigPath, """{ "config": "/elsewhere.json" }""");
        Assert.Contains("\"config\" is not a setting", Error(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[8192]", "an array")]
    [InlineData("""{ "value": 8192 }""", "an object")]
    [InlineData("null", "null")]
    public void A_value_in_the_file_that_is_not_a_number_string_or_boolean_is_an_error(string json, string kind)
    {
        WriteConfig(DefaultConfigPath, $$"""{ "max-message-bytes": {{json}} }""");
        Assert.Equal($"{DefaultConfigPath}: \"max-message-bytes\" must be a number, a string or true/false, not {kind}.", Error());
    }

    [Theory]
    [InlineData("""{ "max-rooms": 5 """, "is not valid JSON")]
    [InlineData("""[ "max-rooms", 5 ]""", "must hold one JSON object of settings")]
    [InlineData("""{ "max-rooms": 5, "max-rooms": 6 }""", "\"max-rooms\" is given twice")]
    public void A_malformed_file_is_an_error_naming_it(string json, string expected)
    {
        WriteConfig(DefaultConfigPath, json);
        Assert.StartsWith(DefaultConfigPath, Error(), StringComparison.Ordinal);
        Assert.Contains(expected, Error(), StringComparison.Ordinal);
    }

    [Fact]
    public void Comments_and_a_trailing_comma_are_allowed_in_a_hand_written_file()
    {
        WriteConfig(DefaultConfigPath, "{\n  // for the big room\n  \"max-room-members\": 5000,\n}");
        Assert.Equal(5000, Resolve().Server.MaxRoomMembers);
    }

    [Fact]
    public void An_empty_environment_variable_counts_as_unset()
    {
        WriteConfig(DefaultConfigPath, """{ "max-rooms": 7 }""");
        _environment["PARLEY_MAX_ROOMS"] = "";
        Assert.Equal(7, Resolve().Server.MaxRooms);
    }

    [Fact]
    public void The_TCP_port_follows_the_UDP_port_and_the_admin_socket_the_data_directory_unless_set()
    {
        _environment["PARLEY_PORT"] = "0";
        WriteConfig(DefaultConfigPath, """{ "data-dir": "/srv/parley" }""");
        var followed = Resolve().Server;
        Assert.Equal((0, 0, "/srv/parley/admin.sock"), (followed.UdpPort, followed.TcpPort, followed.AdminSocketPath));

        var set = Resolve(new() { ["tcp-port"] = "5301", ["admin-socket"] = "none" }).Server;
        Assert.Equal((0, 5301, null), (set.UdpPort, set.TcpPort, set.AdminSocketPath));
    }

    [Fact]
    public void The_data_directory_defaults_to_XDG_DATA_HOME_when_it_is_absolute_else_to_the_home_directory()
    {
        Assert.Equal(Path.Combine(_home, ".local", "share", "parley"), Resolve().Server.DataDirectory);
        _environment["XDG_DATA_HOME"] = "relative/data";
        Assert.Equal(Path.Combine(_home, ".local", "share", "parley"), Resolve().Server.DataDirectory);
        _environment["XDG_DATA_HOME"] = "/srv/data";
        Assert.Equal("/srv/data/parley", Resolve().Server.DataDirectory);
    }

    [Fact]
    public void Parley_user_reads_its_settings_from_the_servers_file_and_ignores_the_rest()
    {
        // A file written for the server: keys parley user does not use are neither unknown nor parsed.
        WriteConfig(DefaultConfigPath, """{ "data-dir": "/srv/parley", "scram-iterations": 4096, "log-format": "json", "max-message-bytes": "abc" }""");
        var options = Resolve(settings: [ServerSettings.DataDir, ServerSettings.ScramIterations, ServerSettings.MinPasswordLength]).Server;
        Assert.Equal(("/srv/parley", 4096), (options.DataDirectory, options.ScramIterations));

        WriteConfig(DefaultConfigPath, """{ "data-dri": "/srv/parley" }""");
        Assert.Contains("\"data-dri\" is not a setting", Error(settings: [ServerSettings.DataDir]), StringComparison.Ordinal);
    }

    private ServerConfiguration Resolve(Dictionary<string, string>? flags = null, string? configFlag = null, IEnumerable<Setting>? settings = null) =>
        ServerSettings.Resolve(settings ?? ServerSettings.All, new SettingInputs(flags ?? [], configFlag, _environment.GetValueOrDefault));

    private string Error(Dictionary<string, string>? flags = null, string? configFlag = null, IEnumerable<Setting>? settings = null) =>
        Assert.Throws<InvalidSettingException>(() => Resolve(flags, configFlag, settings)).Message;

    private static void WriteConfig(string path, string json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
    }

    private static IEnumerable<string> SettableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).Select(p => $"{type.Name}.{p.Name}");

    private static IEnumerable<string> Differences<T>(T before, T after) =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && !Equals(p.GetValue(before), p.GetValue(after)))
            .Select(p => $"{typeof(T).Name}.{p.Name}");
}
