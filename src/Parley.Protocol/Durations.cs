namespace Parley.Protocol;

/// <summary>Waits shown to people ("try again in 1 min 30 s"), rounded up to whole seconds so a retry at the stated time works.</summary>
public static class Durations
{
    public static string Format(TimeSpan wait)
    {
        var seconds = (long)Math.Ceiling(Math.Max(0, wait.TotalSeconds));
        return seconds switch
        {
            < 60 => $"{seconds} s",
            < 3600 when seconds % 60 == 0 => $"{seconds / 60} min",
            < 3600 => $"{seconds / 60} min {seconds % 60} s",
            _ when seconds % 3600 == 0 => $"{seconds / 3600} h",
            _ => $"{seconds / 3600} h {(seconds % 3600 + 59) / 60} min",
        };
    }

    /// <summary>Whole seconds for a wire field, rounded up and at least 1.</summary>
    public static int WholeSeconds(TimeSpan wait) => (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, int.MaxValue);
}
