using System.Buffers;

namespace Parley.Protocol;

/// <summary>
/// Client-ID rules: 1–32 characters from A–Z, a–z, 0–9, '_', '-', '.', starting with a letter or digit. The set
/// keeps IDs safe inside SCRAM attributes (no ',' or '=' to escape, RFC 5802 §5.1) and on a terminal.
/// IDs compare case-insensitively everywhere: "Alice" and "alice" are one subscriber.
/// </summary>
public static class ClientIds
{
    public const int MaxLength = 32;
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

    public static StringComparer Comparer => StringComparer.OrdinalIgnoreCase;

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && char.IsAsciiLetterOrDigit(id[0])
        && !id.AsSpan().ContainsAnyExcept(Allowed);

    public const string Rule = "A client ID is 1 to 32 characters of letters, digits, '_', '-' or '.', starting with a letter or digit.";
}
