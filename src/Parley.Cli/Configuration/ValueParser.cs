using System.Globalization;
using System.Net;

namespace Parley.Cli.Configuration;

/// <summary>
/// Turns a setting's text into a typed value. Only the form is checked here; ranges are
/// <see cref="Parley.Server.ParleyServerOptions.Validate"/>'s, which knows how settings depend on each other.
/// </summary>
internal sealed class ValueParser<T>(string helpName, string expected, ValueParser<T>.TryParseText tryParse)
{
    public delegate bool TryParseText(string text, out T value);

    public string HelpName { get; } = helpName;

    /// <summary>Completes "… is not ___.": what a valid value looks like.</summary>
    public string Expected { get; } = expected;

    public bool TryParse(string text, out T value) => tryParse(text.Trim(), out value);
}

internal static class ValueParsers
{
    public static readonly ValueParser<int> WholeNumber = new("n", "a whole number",
        (string text, out int value) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value));

    /// <summary>Whole or decimal seconds; the bound keeps <see cref="TimeSpan.FromSeconds(double)"/> from overflowing.</summary>
    public static readonly ValueParser<TimeSpan> Seconds = new("seconds", "a number of seconds, such as 30 or 0.5",
        (string text, out TimeSpan value) =>
        {
            var ok = double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                && Math.Abs(seconds) <= 1e9;
            value = ok ? TimeSpan.FromSeconds(seconds) : default;
            return ok;
        });

    /// <summary>
    /// IPv6, or IPv4 as four dotted numbers: <see cref="IPAddress.TryParse(string, out IPAddress)"/> alone would read
    /// "5300" (a port typed in the wrong place) as 0.0.20.180.
    /// </summary>
    public static readonly ValueParser<IPAddress> IpAddress = new("address", "an IP address, such as 127.0.0.1 or ::1",
        (string text, out IPAddress value) =>
        {
            var ok = IPAddress.TryParse(text, out var address)
                && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3);
            value = ok ? address! : IPAddress.None;
            return ok;
        });

    public static readonly ValueParser<string> FilePath = new("path", "a path",
        (string text, out string value) =>
        {
            value = ExpandHome(text);
            return text.Length > 0 && !text.Contains('\0', StringComparison.Ordinal);
        });

    /// <summary>A path, or <c>none</c> (null) to turn the feature off.</summary>
    public static readonly ValueParser<string?> FilePathOrNone = new("path|none", "a path or none",
        (string text, out string? value) =>
        {
            if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                value = null;
                return true;
            }

            var ok = FilePath.TryParse(text, out var path);
            value = path;
            return ok;
        });

    /// <summary>A TCP port (0 = any free port), or <c>off</c> (null).</summary>
    public static readonly ValueParser<int?> OffOrPort = new("off|port", "off or a port from 0 to 65535",
        (string text, out int? value) =>
        {
            value = null;
            if (text.Equals("off", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
            {
                value = port;
                return true;
            }

            return false;
        });

    /// <summary><c>on</c> or <c>off</c>; a JSON <c>true</c> or <c>false</c> reaches the parser as that text.</summary>
    public static readonly ValueParser<bool> OnOff = new("on|off", "on or off",
        (string text, out bool value) =>
        {
            value = text.ToLowerInvariant() is "on" or "true";
            return text.ToLowerInvariant() is "on" or "off" or "true" or "false";
        });

    /// <summary>One of a fixed set of names (any letter case); the help shows them as a|b|c, the error lists them.</summary>
    public static ValueParser<T> Choice<T>(params (string Name, T Value)[] choices) =>
        Choice(string.Join('|', choices.Select(c => c.Name)), choices);

    /// <summary>A choice whose names are too many for the help's left column; the description lists them instead.</summary>
    public static ValueParser<T> Choice<T>(string helpName, params (string Name, T Value)[] choices) =>
        new(helpName, "one of " + string.Join(", ", choices.Select(c => c.Name)),
            (string text, out T value) =>
            {
                foreach (var (name, choice) in choices)
                {
                    if (name.Equals(text, StringComparison.OrdinalIgnoreCase))
                    {
                        value = choice;
                        return true;
                    }
                }

                value = default!;
                return false;
            });

    /// <summary>A shell expands <c>~</c> on the command line but not in parley.json or the environment; this does.</summary>
    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? System.IO.Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[1..].TrimStart('/'))
            : path;
}
