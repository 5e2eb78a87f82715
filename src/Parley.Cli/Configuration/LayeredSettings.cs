namespace Parley.Cli.Configuration;

/// <summary>What a run was given: the flags on its command line (by setting name), and its environment.</summary>
/// <param name="Flags">Only the flags actually typed: a flag left out must not hide the environment or the file.</param>
/// <param name="ConfigFlag">The <c>--config</c> path, if given.</param>
internal sealed record SettingInputs(IReadOnlyDictionary<string, string> Flags, string? ConfigFlag, Func<string, string?> Environment)
{
    public static SettingInputs FromProcess(IReadOnlyDictionary<string, string> flags, string? configFlag) =>
        new(flags, configFlag, System.Environment.GetEnvironmentVariable);
}

/// <summary>A setting's winning text and where it came from ("from the command line", "from PARLEY_PORT", …).</summary>
internal sealed record ChosenValue(Setting Setting, string Text, string Source);

/// <summary>
/// The usual .NET precedence (issue #7): built-in default &lt; parley.json &lt; environment &lt; command line. Each
/// setting takes its text from the highest layer that has one; a setting no layer mentions keeps its default.
/// </summary>
internal static class LayeredSettings
{
    /// <param name="settings">The settings this command uses.</param>
    /// <param name="fileKeys">Every name parley.json may hold: a file written for the server is valid for <c>parley user</c> too.</param>
    public static IReadOnlyList<ChosenValue> Choose(IEnumerable<Setting> settings, IReadOnlyCollection<string> fileKeys, SettingInputs inputs)
    {
        var path = ConfigFile.Locate(inputs.ConfigFlag, inputs.Environment);
        var file = path is null ? new Dictionary<string, string>() : ConfigFile.Read(path, fileKeys);
        var chosen = new List<ChosenValue>();
        foreach (var setting in settings)
        {
            if (inputs.Flags.TryGetValue(setting.Name, out var flag))
            {
                chosen.Add(new(setting, flag, "from the command line"));
            }
            else if (inputs.Environment(setting.EnvironmentVariable) is { Length: > 0 } variable)
            {
                // An empty variable counts as unset, as `PARLEY_X= parley server` is the shell's way to unset one.
                chosen.Add(new(setting, variable, "from " + setting.EnvironmentVariable));
            }
            else if (file.TryGetValue(setting.Name, out var fromFile))
            {
                chosen.Add(new(setting, fromFile, "from " + path));
            }
        }

        return chosen;
    }
}
