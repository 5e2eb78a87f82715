using Microsoft.Extensions.Logging;

namespace Parley.Cli.Server;

/// <summary>
/// How <c>parley server</c> runs around the server proper (issue #7): logging and the console. The server's own
/// limits are <see cref="Parley.Server.ParleyServerOptions"/>; both come from the same layered settings.
/// </summary>
internal sealed record ServerHostSettings
{
    /// <summary>The least severe level written (Microsoft.Extensions.Logging); below Information only for debugging.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>"text": one human line per event; "json": one JSON object per event, for log collectors.</summary>
    public string LogFormat { get; init; } = LogFormats.Text;

    /// <summary>Whether stdin takes operator commands (TERMINATE, users, …); off for a service whose stdin is not a person.</summary>
    public bool Console { get; init; } = true;
}

internal static class LogFormats
{
    public const string Text = "text";
    public const string Json = "json";
}
