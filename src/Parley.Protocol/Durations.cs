using System.Globalization;
using System.Text.RegularExpressions;

namespace Parley.Protocol;

/// <summary>Waits shown to people ("try again in 1 min 30 s"), rounded up to whole seconds so a retry at the stated time works.</summary>
public static partial class Durations
{
    public static string Format(TimeSpan wait)
    {
        var seconds = (long)Math.Ceiling(Math.Max(0, wait.TotalSeconds));
        if (seconds < 3600)
        {
            return seconds switch
            {
                < 60 => $"{seconds} s",
                _ when seconds % 60 == 0 => $"{seconds / 60} min",
                _ => $"{seconds / 60} min {seconds % 60} s",
            };
        }

        // An hour or more is told in whole minutes, rounded up before splitting so 1 h 59.5 min reads "2 h".
        var minutes = (seconds + 59) / 60;
        return minutes % 60 == 0 ? $"{minutes / 60} h" : $"{minutes / 60} h {minutes % 60} min";
    }

    /// <summary>
    /// The wait a refusal's text states as "try again in &lt;<see cref="Format"/>&gt;" (RATE_LIMITED, §10.5), or null when
    /// it states none. ERROR carries no wait field, so a client that retries by itself reads it from the text.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string text)
    {
        var match = RetryAfter().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var wait = TimeSpan.FromHours(Number(match.Groups["h"])) + TimeSpan.FromMinutes(Number(match.Groups["min"])) + TimeSpan.FromSeconds(Number(match.Groups["s"]));
        return wait > TimeSpan.Zero ? wait : null;

        static int Number(Group group) => group.Success ? int.Parse(group.Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"try again in (?=\d)(?:(?<h>\d{1,6}) h\b ?)?(?:(?<min>\d{1,6}) min\b ?)?(?:(?<s>\d{1,6}) s\b)?", RegexOptions.CultureInvariant)]
    private static partial Regex RetryAfter();

    /// <summary>Whole seconds for a wire field, rounded up and at least 1.</summary>
    public static int WholeSeconds(TimeSpan wait) => (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, int.MaxValue);
}
