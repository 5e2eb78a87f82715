using System.Text.Json;

namespace Parley.Cli.Configuration;

/// <summary>
/// parley.json: one flat JSON object mapping setting names to numbers, strings or booleans, such as
/// <c>{"data-dir": "/srv/parley", "max-message-bytes": 8192}</c>. Named by <c>--config</c> or PARLEY_CONFIG, else
/// read from the XDG config directory if it is there.
/// </summary>
internal static class ConfigFile
{
    public const string EnvironmentVariable = "PARLEY_CONFIG";

    /// <summary>The file to read, or null when none was named and the default one does not exist.</summary>
    public static string? Locate(string? flag, Func<string, string?> environment)
    {
        if (flag is not null)
        {
            return MustExist(flag, "from the command line");
        }

        if (environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return MustExist(fromEnvironment, "from " + EnvironmentVariable);
        }

        var path = DefaultPath(environment);
        return File.Exists(path) ? path : null;
    }

    /// <summary>$XDG_CONFIG_HOME/parley/parley.json, or ~/.config/parley/parley.json (XDG Base Directory defaults).</summary>
    public static string DefaultPath(Func<string, string?> environment) =>
        Path.Combine(XdgDirectory(environment, "XDG_CONFIG_HOME", ".config"), "parley", "parley.json");

    /// <summary>
    /// A base directory per the XDG Base Directory spec: the variable if it holds an absolute path (a relative one
    /// is to be ignored), else <paramref name="fallback"/> under the home directory.
    /// </summary>
    public static string XdgDirectory(Func<string, string?> environment, string variable, string fallback)
    {
        if (environment(variable) is { Length: > 0 } directory && Path.IsPathRooted(directory))
        {
            return directory;
        }

        var home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, fallback);
    }

    /// <summary>
    /// Reads the file's settings as text. A name outside <paramref name="known"/> is refused rather than ignored, so a
    /// typo cannot silently leave a limit at its default.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Read(string path, IReadOnlyCollection<string> known)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException($"{path} cannot be read: {e.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidSettingException($"{path} is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidSettingException($"{path} must hold one JSON object of settings, such as {{\"max-message-bytes\": 4096}}.");
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!known.Contains(property.Name))
                {
                    throw new InvalidSettingException($"{path}: \"{property.Name}\" is not a setting{Suggestion(property.Name, known)}; "
                        + "the settings are the options of `parley server --help`, without the leading --.");
                }

                var text = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    var kind => throw new InvalidSettingException(
                        $"{path}: \"{property.Name}\" must be a number, a string or true/false, not {Describe(kind)}."),
                };
                if (!values.TryAdd(property.Name, text))
                {
                    throw new InvalidSettingException($"{path}: \"{property.Name}\" is given twice.");
                }
            }

            return values;
        }
    }

    private static string MustExist(string path, string source) =>
        File.Exists(path) ? path : throw new InvalidSettingException($"--config: \"{path}\" ({source}) does not exist.");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "null",
    };

    /// <summary>", did you mean "x"?" for the known name within two edits of a misspelt one.</summary>
    private static string Suggestion(string name, IReadOnlyCollection<string> known) =>
        known.Select(k => (Name: k, Distance: EditDistance(name, k))).Where(k => k.Distance <= 2).OrderBy(k => k.Distance).FirstOrDefault() is { Name: not null } best
            ? $" (did you mean \"{best.Name}\"?)"
            : "";

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
