namespace Parley.Cli.Configuration;

/// <summary>
/// One setting of <c>parley server</c> under its three spellings (issue #7): the flag <c>--max-message-bytes</c>, the
/// environment variable <c>PARLEY_MAX_MESSAGE_BYTES</c> and the key <c>"max-message-bytes"</c> of parley.json. Every
/// layer hands over text, so one parser checks a value wherever it came from and its error names that place.
/// </summary>
internal sealed class Setting
{
    private readonly Func<ServerConfiguration, string, string, ServerConfiguration> _apply;

    private Setting(string name, string description, string defaultText, string helpName,
        Func<ServerConfiguration, string, string, ServerConfiguration> apply)
    {
        Name = name;
        Description = description;
        DefaultText = defaultText;
        HelpName = helpName;
        _apply = apply;
    }

    /// <summary>The key in parley.json, such as <c>max-message-bytes</c>.</summary>
    public string Name { get; }

    public string Description { get; }

    /// <summary>The built-in default as <c>--help</c> shows it.</summary>
    public string DefaultText { get; }

    /// <summary>What the value looks like in <c>--help</c>: <c>n</c>, <c>seconds</c>, <c>open|invite|closed</c>…</summary>
    public string HelpName { get; }

    public string Flag => "--" + Name;

    public string EnvironmentVariable => EnvironmentName(Name);

    /// <summary>The description <c>--help</c> prints: what it does, then its default and its environment variable.</summary>
    public string HelpText => $"{Description} [default: {DefaultText}; env {EnvironmentVariable}]";

    public static string EnvironmentName(string name) => "PARLEY_" + name.ToUpperInvariant().Replace('-', '_');

    public static Setting Create<T>(string name, string description, ValueParser<T> parser, string defaultText,
        Func<ServerConfiguration, T, ServerConfiguration> apply) =>
        new(name, description, defaultText, parser.HelpName, (configuration, text, source) =>
            parser.TryParse(text, out var value)
                ? apply(configuration, value)
                : throw new InvalidSettingException($"--{name}: \"{text}\" ({source}) is not {parser.Expected}."));

    /// <summary>
    /// Parses <paramref name="text"/> and sets it; <paramref name="source"/> ("from PARLEY_PORT", …) is where it came
    /// from, for the error a bad value raises (<see cref="InvalidSettingException"/>).
    /// </summary>
    public ServerConfiguration Apply(ServerConfiguration configuration, string text, string source) =>
        _apply(configuration, text, source);
}

/// <summary>A setting or the configuration file is invalid; the message is a sentence for the operator.</summary>
internal sealed class InvalidSettingException(string message) : Exception(message);
