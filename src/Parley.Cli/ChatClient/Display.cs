using System.Globalization;
using System.Text;

namespace Parley.Cli.ChatClient;

/// <summary>How messages look on the terminal.</summary>
internal static class Display
{
    /// <summary>Text from other people is shown, never executed: control characters would let a peer drive our terminal.</summary>
    public static string Clean(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\x1f') && !text.AsSpan().ContainsAnyInRange('\x7f', '\x9f'))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            clean.Append(c is < ' ' or (>= '\x7f' and <= '\x9f') ? '\uFFFD' : c);
        }

        return clean.ToString();
    }

    /// <summary>Seed 004's timestamp, "2023-06-25 09:35:24", in local time; the server's clock stamped the message.</summary>
    public static string Time(long? unixMilliseconds) =>
        (unixMilliseconds is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UtcNow)
        .ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Seed 004's message line: "2023-06-25 09:35:24 Ira: Hi", with an optional tag ("[DM]", "[#rust]") before the sender.</summary>
    public static string Line(long? sentAt, string? tag, string from, string text) =>
        tag is null ? $"{Time(sentAt)} {from}: {Clean(text)}" : $"{Time(sentAt)} {tag} {from}: {Clean(text)}";
}
