using System.CommandLine;

namespace Parley.Cli.Configuration;

/// <summary>
/// The command-line layer: one string-valued option per setting, plus <c>--config</c>. The options have no default
/// of their own, so a flag left out leaves the environment and parley.json in charge; the help shows the real
/// default in the description instead.
/// </summary>
internal sealed class SettingOptions
{
    private readonly IReadOnlyList<(Setting Setting, Option<string> Option)> _options;

    private readonly Option<string> _config = new("--config")
    {
        Description = "JSON file of settings, named like these options without the leading -- "
            + $"[default: $XDG_CONFIG_HOME/parley/parley.json or ~/.config/parley/parley.json, if it exists; env {ConfigFile.EnvironmentVariable}]",
        HelpName = "path",
    };

    public SettingOptions(IEnumerable<Setting> settings) =>
        _options = [.. settings.Select(s => (s, new Option<string>(s.Flag) { Description = s.HelpText, HelpName = s.HelpName }))];

    public IEnumerable<Setting> Settings => _options.Select(o => o.Setting);

    public void AddTo(Command command)
    {
        command.Options.Add(_config);
        foreach (var (_, option) in _options)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Layers this command's settings (<see cref="ServerSettings.Resolve"/>); throws <see cref="InvalidSettingException"/>.</summary>
    public ServerConfiguration Resolve(ParseResult result)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (setting, option) in _options)
        {
            if (result.GetValue(option) is { } text)
            {
                flags[setting.Name] = text;
            }
        }

        return ServerSettings.Resolve(Settings, SettingInputs.FromProcess(flags, result.GetValue(_config)));
    }
}
