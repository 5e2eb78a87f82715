namespace Parley.Protocol;

/// <summary>Room names (issue #4): '#' then 1–32 of [a-z0-9_-], compared ignoring case and shown lower-case.</summary>
public static class Rooms
{
    /// <summary>The seeds' single room (003's "all active users", 004's "the room"); the client joins it at log-on.</summary>
    public const string Default = "#lobby";

    public const int MaxNameLength = 33;

    public const string Rule = "Room names are '#' followed by 1 to 32 letters, digits, '_' or '-'.";

    /// <summary>The canonical (lower-case) form of <paramref name="name"/>, with a leading '#' added if missing; null if invalid.</summary>
    public static string? Normalize(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var withHash = name[0] == '#' ? name : "#" + name;
        if (withHash.Length is < 2 or > MaxNameLength)
        {
            return null;
        }

        foreach (var c in withHash.AsSpan(1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return null;
            }
        }

        return withHash.ToLowerInvariant();
    }
}
